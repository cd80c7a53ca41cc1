//! What a build says about live capture, compiled with or without the `live` feature.
//!
//! Why it exists: live capture needs libpcap, so it sits behind the `live` cargo feature and the
//! default build (offline captures only) needs no system library. A build without the feature
//! must still answer `-i IFACE` with something better than "unknown option": this file holds
//! that answer, so the command line can print it whatever the build.

/// Whether this build can capture from network interfaces (it was built with `--features live`).
pub const LIVE_AVAILABLE: bool = cfg!(feature = "live");

/// What a build without the `live` feature prints when asked to capture from an interface.
pub const LIVE_UNAVAILABLE: &str = "this build of ferret has no live capture (it was built without the \
`live` feature, which needs libpcap); to capture from an interface, install libpcap's headers and \
rebuild with the feature:
    apt-get install libpcap-dev
    cargo install --path . --features live";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_how_to_get_live_capture() {
        assert!(LIVE_UNAVAILABLE.contains("apt-get install libpcap-dev"));
        assert!(LIVE_UNAVAILABLE.contains("cargo install --path . --features live"));
        assert_eq!(LIVE_AVAILABLE, cfg!(feature = "live"));
    }
}
