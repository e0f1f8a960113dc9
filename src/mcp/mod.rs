//! The Model Context Protocol server: the shop's tools for AI hosts, over Streamable HTTP
//! (`/mcp`, `/api/stores/{slug}/mcp`) and stdio (`feria mcp`). Tools call the same services as
//! the API.

pub mod http;
pub mod resources;
pub mod server;
pub mod stdio;
pub mod tools;
