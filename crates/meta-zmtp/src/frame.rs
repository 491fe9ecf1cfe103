//! ZMTP 3 wire pieces (<https://rfc.zeromq.org/spec/23/>): the greeting, frame headers, and
//! the commands the NULL mechanism and PUB/SUB use.

/// This frame is followed by another of the same message.
pub const MORE: u8 = 0x01;
/// The size is 8 bytes (network order) instead of 1.
pub const LONG: u8 = 0x02;
/// A command, not message data.
pub const COMMAND: u8 = 0x04;

pub const GREETING_LEN: usize = 64;

/// Our greeting: ZMTP 3.0, NULL mechanism. We announce 3.0, not 3.1, so libzmq peers send
/// subscriptions as messages (3.0) rather than commands (3.1); both are understood anyway.
pub fn greeting() -> [u8; GREETING_LEN] {
    let mut greeting = [0u8; GREETING_LEN];
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    greeting[11] = 0;
    greeting[12..16].copy_from_slice(b"NULL");
    greeting
}

/// Checks the part of a greeting received so far, as ZMTP's version detection reads it: a
/// ZMTP 1.0 peer shows at the first byte (or the tenth), a 2.0 peer at the eleventh. Such peers
/// never send 64 bytes, so waiting for a whole greeting would hold them until the handshake
/// times out.
pub fn check_greeting_start(start: &[u8]) -> Result<(), String> {
    let old = "the peer speaks ZMTP 1.0; ZMTP 3 (libzmq 4 or later) is required";
    if start.first().is_some_and(|b| *b != 0xff) || start.get(9).is_some_and(|b| b & 0x01 == 0) {
        return Err(old.into());
    }
    match start.get(10) {
        Some(&major) if major < 3 => Err(format!(
            "the peer speaks ZMTP 2.0 or older (version byte {major}); ZMTP 3 (libzmq 4 or \
             later) is required"
        )),
        _ => Ok(()),
    }
}

/// Checks a peer's greeting; the error says what is wrong with it.
pub fn check_greeting(greeting: &[u8]) -> Result<(), String> {
    if greeting[0] != 0xff || greeting[9] & 0x01 != 0x01 {
        return Err("not a ZMTP peer (bad greeting signature)".into());
    }
    if greeting[10] < 3 {
        return Err(format!(
            "the peer speaks ZMTP {}.x; ZMTP 3 (libzmq 4 or later) is required",
            greeting[10]
        ));
    }
    let mechanism = &greeting[12..32];
    let name_len = mechanism.iter().position(|b| *b == 0).unwrap_or(20);
    if &mechanism[..name_len] != b"NULL" {
        return Err(format!(
            "the peer asks for the {} security mechanism; only NULL is served",
            String::from_utf8_lossy(&mechanism[..name_len])
        ));
    }
    Ok(())
}

/// A frame header read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub flags: u8,
    /// Bytes of the header itself (2 or 9).
    pub len: usize,
    pub body_len: u64,
}

impl Header {
    pub fn more(self) -> bool {
        self.flags & MORE != 0
    }

    pub fn command(self) -> bool {
        self.flags & COMMAND != 0
    }

    /// Header and body together, in bytes (saturating where `usize` is narrower than the size).
    pub fn total(self) -> usize {
        usize::try_from(self.body_len)
            .unwrap_or(usize::MAX)
            .saturating_add(self.len)
    }
}

/// The header at the start of `buf`: `None` when more bytes are needed.
pub fn parse_header(buf: &[u8]) -> Option<Result<Header, String>> {
    let flags = *buf.first()?;
    if flags & !(MORE | LONG | COMMAND) != 0 {
        return Some(Err(format!(
            "reserved flag bits set in a frame ({flags:#04x})"
        )));
    }
    if flags & COMMAND != 0 && flags & MORE != 0 {
        return Some(Err("a command frame cannot have the MORE flag".into()));
    }
    if flags & LONG == 0 {
        let len = *buf.get(1)?;
        return Some(Ok(Header {
            flags,
            len: 2,
            body_len: u64::from(len),
        }));
    }
    let size: [u8; 8] = buf.get(1..9)?.try_into().ok()?;
    Some(Ok(Header {
        flags,
        len: 9,
        body_len: u64::from_be_bytes(size),
    }))
}

/// Bytes a frame of `body_len` bytes takes on the wire, header included.
pub fn frame_len(body_len: usize) -> usize {
    body_len + if u8::try_from(body_len).is_ok() { 2 } else { 9 }
}

/// Appends a frame (short or long form as its size needs).
pub fn write_frame(out: &mut Vec<u8>, flags: u8, body: &[u8]) {
    if let Ok(len) = u8::try_from(body.len()) {
        out.push(flags);
        out.push(len);
    } else {
        out.push(flags | LONG);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(body);
}

/// Appends a command frame: name length, name, data.
pub fn write_command(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::with_capacity(1 + name.len() + data.len());
    body.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    write_frame(out, COMMAND, &body);
}

/// Appends a READY command announcing `socket_type`.
pub fn write_ready(out: &mut Vec<u8>, socket_type: &str) {
    let mut data = Vec::new();
    push_property(&mut data, "Socket-Type", socket_type.as_bytes());
    write_command(out, "READY", &data);
}

/// Appends an ERROR command (the peer logs the reason and closes).
pub fn write_error(out: &mut Vec<u8>, reason: &str) {
    let reason = &reason.as_bytes()[..reason.len().min(255)];
    let mut data = Vec::with_capacity(1 + reason.len());
    data.push(u8::try_from(reason.len()).unwrap_or(u8::MAX));
    data.extend_from_slice(reason);
    write_command(out, "ERROR", &data);
}

fn push_property(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(value);
}

/// Splits a command body into (name, data).
pub fn parse_command(body: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (&name_len, rest) = body
        .split_first()
        .ok_or_else(|| "an empty command frame".to_owned())?;
    let name_len = usize::from(name_len);
    if rest.len() < name_len {
        return Err("a command frame shorter than its name".into());
    }
    Ok(rest.split_at(name_len))
}

/// The value of property `wanted` in READY data (names compare case-insensitively).
pub fn property<'a>(mut data: &'a [u8], wanted: &str) -> Result<Option<&'a [u8]>, String> {
    let malformed = || "malformed metadata in READY".to_owned();
    let mut found = None;
    while let Some((&name_len, rest)) = data.split_first() {
        let name_len = usize::from(name_len);
        let name = rest.get(..name_len).ok_or_else(malformed)?;
        let size: [u8; 4] = rest
            .get(name_len..name_len + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(malformed)?;
        let value_len = usize::try_from(u32::from_be_bytes(size)).map_err(|_| malformed())?;
        let start = name_len + 4;
        let value = rest.get(start..start + value_len).ok_or_else(malformed)?;
        if name.eq_ignore_ascii_case(wanted.as_bytes()) {
            found = Some(value);
        }
        data = &rest[start + value_len..];
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_in_short_and_long_form() {
        for len in [0usize, 1, 255, 256, 70_000] {
            let body = vec![7u8; len];
            let mut out = Vec::new();
            write_frame(&mut out, MORE, &body);
            let header = parse_header(&out).unwrap().unwrap();
            assert_eq!(header.body_len, len as u64);
            assert!(header.more());
            assert_eq!(header.len, if len > 255 { 9 } else { 2 });
            assert_eq!(&out[header.len..], &body[..]);
            // Any prefix shorter than the header asks for more.
            assert!(parse_header(&out[..header.len - 1]).is_none());
        }
    }

    #[test]
    fn reserved_bits_and_commands_with_more_are_refused() {
        assert!(parse_header(&[0x08, 0]).unwrap().is_err());
        assert!(parse_header(&[COMMAND | MORE, 0]).unwrap().is_err());
    }

    #[test]
    fn ready_carries_the_socket_type() {
        let mut out = Vec::new();
        write_ready(&mut out, "XPUB");
        let header = parse_header(&out).unwrap().unwrap();
        assert!(header.command());
        let (name, data) = parse_command(&out[header.len..]).unwrap();
        assert_eq!(name, b"READY");
        assert_eq!(property(data, "socket-type").unwrap(), Some(&b"XPUB"[..]));
        assert!(property(&data[..data.len() - 1], "Socket-Type").is_err());
    }

    #[test]
    fn greetings_are_checked() {
        assert!(check_greeting(&greeting()).is_ok());
        let mut old = greeting();
        old[10] = 2;
        assert!(check_greeting(&old).unwrap_err().contains("ZMTP 2"));
        let mut curve = greeting();
        curve[12..17].copy_from_slice(b"CURVE");
        assert!(check_greeting(&curve).unwrap_err().contains("CURVE"));
        assert!(check_greeting(&[b'G'; 64]).is_err());
    }

    #[test]
    fn old_versions_are_known_from_the_first_bytes() {
        assert!(check_greeting_start(&[]).is_ok());
        assert!(check_greeting_start(&greeting()[..11]).is_ok());
        // ZMTP 1.0: a length byte, not the 0xff signature.
        assert!(check_greeting_start(&[5]).unwrap_err().contains("ZMTP 1.0"));
        // ZMTP 2.0: the signature, then revision 1.
        let mut two = greeting()[..11].to_vec();
        two[10] = 1;
        assert!(check_greeting_start(&two).unwrap_err().contains("ZMTP 2"));
    }
}
