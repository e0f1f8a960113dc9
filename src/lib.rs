//! feria: a self-hosted commerce backend. The binary (`src/main.rs`) is a thin CLI over this
//! library; the integration tests drive the same library over real HTTP.

pub mod app;
pub mod config;
pub mod crypto;
pub mod http;
pub mod jobs;
pub mod mcp;
pub mod router;
pub mod routes;
pub mod server;
pub mod services;
pub mod ucp;
