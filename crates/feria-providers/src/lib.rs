//! Clients for services outside feria. Each one only builds requests and reads responses for
//! its protocol; retries and persistence belong to the caller (the job runner). Every client's
//! endpoint is configurable so tests can point it at a fake speaking the same protocol.

pub mod anthropic;
pub mod documents;
pub mod email;
pub mod fcm;
pub mod google_oauth;
pub mod http;
pub mod llm;
pub mod mercadopago;
pub mod message_signatures;
pub mod messaging;
pub mod s3;
pub mod sendgrid;
pub mod signatures;
pub mod stripe;
pub mod telegram;
pub mod twilio;
pub mod webpush;
