//! The admin dashboard (`/dashboard`): annotation progress, answer quality, coverage against each
//! campaign's goal, and studio and upload activity, over a date range and optionally one campaign.
//! The same figures are JSON and CSV under `/api/v1/stats` (the server's `stats_api`). Admins only,
//! on every surface, through [`ssr::may_view`].
mod api;
mod model;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use model::*;
pub use pages::DashboardPage;
