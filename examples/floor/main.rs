//! The whole-process floor (issue 12): maps a pcap file as `ferret scan`
//! does and runs the hand-written pass of [`pass::floor`] over it (every
//! packet read, the entropy of every ICMP payload and DNS query name).
//! `benches/bench.sh` times it next to `ferret scan`.
//!
//! Run: `cargo run --release --example floor -- FILE.pcap`

mod pass;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: floor FILE.pcap");
        return std::process::ExitCode::from(2);
    };
    let data = match ferret::capture::CaptureData::open(std::path::Path::new(&path)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("floor: {}: {e}", path.to_string_lossy());
            return std::process::ExitCode::from(2);
        }
    };
    let (sum, packets) = pass::floor(data.bytes());
    println!("{packets} packets, entropy sum {sum:.3}");
    std::process::ExitCode::SUCCESS
}
