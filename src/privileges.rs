//! Placeholder replaced by the `live` branch.

/// Drops to `user` and `group`.
pub fn drop_to(_user: Option<&str>, _group: Option<&str>) -> Result<(), String> {
    Err("not built yet".into())
}
