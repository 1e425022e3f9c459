//! The reference server: a small API that signs a demo user in and protects
//! `/api/me` with [`auth_layer::AuthLayer`].
//!
//! | route | behaviour |
//! | --- | --- |
//! | `POST /api/login` | `{"username","password"}` gives `200` with the pair JSON and the refresh cookie; wrong credentials give `401` |
//! | `POST /api/refresh` | token from the body or the cookie; `200` with a rotated pair and a new cookie; `400 invalid_grant` otherwise |
//! | `POST /api/logout` | bearer access token and/or the refresh token; `204`, session revoked, cookie cleared |
//! | `POST /api/logout-all` | bearer access token; `204`, every session of the user revoked |
//! | `GET /api/me` | protected; `200` with the user id and session id |
//! | `GET /healthz` | public; `200` |
//! | `GET /` | the demo page (with `/app.js` and `/app.css`), compiled into the binary |

mod config;
mod page;
mod routes;

pub use config::{Config, ConfigError};
pub use routes::{DEMO_PASSWORD, DEMO_USER, Server};
