//! Outputs: alert lines for people, EVE JSON for machines, the end-of-run summary.
//!
//! Outputs take finished [`Alert`](crate::engine::alert::Alert)s and statistics;
//! they know nothing of rules syntax or capture formats.

pub mod eve;
pub mod sink;
pub mod summary;
pub mod text;
pub mod time;
