//! The reference server: a small API that signs a demo user in and protects
//! `/api/me` with [`auth_layer::AuthLayer`].
//!
//! | route | behaviour |
//! | --- | --- |
//! | `POST /api/login` | `{"username","password"}` gives `200` with the pair JSON; wrong credentials give `401` |
//! | `GET /api/me` | protected; `200` with the user id and session id |
//! | `GET /healthz` | public; `200` |

mod config;
mod routes;

pub use config::{Config, ConfigError};
pub use routes::{DEMO_PASSWORD, DEMO_USER, Server};
