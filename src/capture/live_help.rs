//! Placeholder replaced by the `live` branch.

/// What a build without live capture says to `-i`.
pub const LIVE_UNAVAILABLE: &str = "this build has no live capture";
