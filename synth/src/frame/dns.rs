//! DNS message builders (the UDP/TCP payload, not the frame).
//!
//! Tunnel detection reads query names, so the builders write names exactly as
//! given (label by label) and answer records point back at the question name
//! with a compression pointer, as real resolvers do.

/// Flags of a standard query with recursion desired.
const QUERY_FLAGS: u16 = 0x0100;
/// Flags of a response: QR, RD and RA set, no error.
const RESPONSE_FLAGS: u16 = 0x8180;
/// Compression pointer to offset 12, where the question name starts.
const POINTER_TO_QUESTION: [u8; 2] = [0xc0, 0x0c];
/// Class IN.
const CLASS_IN: u16 = 1;
/// TTL given to every answer.
const ANSWER_TTL: u32 = 300;

/// A DNS query message: one question for `qname` of type `qtype`, class IN, RD set.
///
/// Empty labels (leading, doubled or trailing dots) are skipped and labels
/// longer than 63 bytes are cut to 63, so the result is always well formed.
pub fn dns_query(id: u16, qname: &str, qtype: u16) -> Vec<u8> {
    let mut msg = Vec::with_capacity(18 + qname.len());
    push_header(&mut msg, id, QUERY_FLAGS, 0);
    push_question(&mut msg, qname, qtype);
    msg
}

/// A DNS response repeating the question and carrying `answers` as
/// `(type, rdata)` records named by a pointer to the question, TTL 300.
/// At most 65535 answers are written; longer rdata is cut to 65535 bytes.
pub fn dns_response(id: u16, qname: &str, qtype: u16, answers: &[(u16, &[u8])]) -> Vec<u8> {
    let answers = answers.get(..usize::from(u16::MAX)).unwrap_or(answers);
    let rdata_total: usize = answers.iter().map(|(_, rdata)| rdata.len() + 12).sum();
    let mut msg = Vec::with_capacity(18 + qname.len() + rdata_total);
    push_header(&mut msg, id, RESPONSE_FLAGS, answers.len());
    push_question(&mut msg, qname, qtype);
    for &(rtype, rdata) in answers {
        let rdata = rdata.get(..usize::from(u16::MAX)).unwrap_or(rdata);
        msg.extend_from_slice(&POINTER_TO_QUESTION);
        msg.extend_from_slice(&rtype.to_be_bytes());
        msg.extend_from_slice(&CLASS_IN.to_be_bytes());
        msg.extend_from_slice(&ANSWER_TTL.to_be_bytes());
        msg.extend_from_slice(&u16::try_from(rdata.len()).unwrap_or(u16::MAX).to_be_bytes());
        msg.extend_from_slice(rdata);
    }
    msg
}

/// A DNS message framed for TCP: 2-byte big-endian length, then the message
/// (cut to 65535 bytes if longer).
pub fn dns_tcp(message: &[u8]) -> Vec<u8> {
    let message = message.get(..usize::from(u16::MAX)).unwrap_or(message);
    let mut out = Vec::with_capacity(message.len() + 2);
    out.extend_from_slice(&u16::try_from(message.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(message);
    out
}

fn push_header(msg: &mut Vec<u8>, id: u16, flags: u16, answers: usize) {
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&flags.to_be_bytes());
    msg.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    msg.extend_from_slice(&u16::try_from(answers).unwrap_or(u16::MAX).to_be_bytes());
    msg.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
}

fn push_question(msg: &mut Vec<u8>, qname: &str, qtype: u16) {
    for label in qname.split('.').filter(|label| !label.is_empty()) {
        let label = label.as_bytes();
        let label = label.get(..63).unwrap_or(label);
        msg.push(label.len() as u8);
        msg.extend_from_slice(label);
    }
    msg.push(0);
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&CLASS_IN.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes() {
        let msg = dns_query(0xbeef, "example.com", 1);
        let want: &[u8] = b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
            \x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(msg, want);
    }

    #[test]
    fn trailing_dot_and_long_labels() {
        assert_eq!(dns_query(1, "example.com.", 1), dns_query(1, "example.com", 1));
        let long = "a".repeat(70);
        let msg = dns_query(1, &format!("{long}.net"), 16);
        assert_eq!(msg[12], 63);
        assert_eq!(msg[12 + 64], 3);
        assert_eq!(dns_query(1, "", 1)[12..], [0, 0, 1, 0, 1]);
    }

    #[test]
    fn response_counts_and_pointer() {
        let msg = dns_response(7, "www.debian.org", 1, &[(1, &[1, 2, 3, 4]), (1, &[5, 6, 7, 8])]);
        assert_eq!(msg[2..4], [0x81, 0x80]);
        assert_eq!(msg[4..6], [0, 1]); // QDCOUNT
        assert_eq!(msg[6..8], [0, 2]); // ANCOUNT
        assert_eq!(msg[8..12], [0, 0, 0, 0]);
        let question_end = 12 + "www.debian.org".len() + 2 + 4;
        let first = &msg[question_end..question_end + 16];
        assert_eq!(first[..2], [0xc0, 0x0c]);
        assert_eq!(first[2..4], [0, 1]);
        assert_eq!(first[4..6], [0, 1]);
        assert_eq!(first[6..10], 300u32.to_be_bytes());
        assert_eq!(first[10..12], [0, 4]);
        assert_eq!(first[12..16], [1, 2, 3, 4]);
        assert_eq!(msg.len(), question_end + 32);
    }

    #[test]
    fn tcp_length_prefix() {
        let msg = dns_query(1, "a.b", 1);
        let framed = dns_tcp(&msg);
        assert_eq!(framed[..2], u16::try_from(msg.len()).unwrap().to_be_bytes());
        assert_eq!(framed[2..], msg[..]);
    }
}
