//! Outputs: alert lines for people, EVE JSON for machines (a file, Redis, a
//! Unix socket, syslog), the end-of-run summary.
//!
//! Outputs take finished [`Alert`](crate::engine::alert::Alert)s and statistics;
//! they know nothing of rules syntax or capture formats.

pub mod eve;
pub mod remote;
pub mod resp;
pub mod sink;
pub mod summary;
pub mod target;
pub mod text;
pub mod time;
