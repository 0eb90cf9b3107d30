//! What the server hands every page render, server function and REST handler.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct ServerContext {
    pub db: DatabaseConnection,
    pub settings: Arc<AppSettings>,
}

/// The slice of the server configuration the app itself needs.
#[derive(Clone, Debug, Default)]
pub struct AppSettings {
    /// Demo sign-in is offered (demo mode on and bound to loopback).
    pub demo_enabled: bool,
    /// An OAuth client is configured, so "Sign in with Google" is offered.
    pub oauth_enabled: bool,
    /// The provider's display name on the sign-in button.
    pub oauth_provider_name: String,
    /// E-mails that are made admins when they sign in (lower-case).
    pub admin_emails: Vec<String>,
}

impl ServerContext {
    /// The context of the current render or server function.
    pub fn current() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<Self>().ok_or_else(|| {
            tracing::error!("ServerContext missing from the leptos context");
            crate::error::AppError::Internal
        })
    }
}
