//! Unified Social Credit Code (统一社会信用代码, GB 32100-2015): check digit and validation.
//!
//! 18 characters: registration authority (1) + type (1) + 6-digit division code
//! + 9-character organisation code + check character.

/// The 31 characters a USCC may contain (no I, O, Z, S, V), in value order.
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Character value by byte (255 = not in the charset).
const VALUES: [u8; 256] = {
    let mut t = [255u8; 256];
    let mut i = 0;
    while i < CHARSET.len() {
        t[CHARSET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

fn value_of(c: u8) -> Option<u32> {
    match VALUES[c as usize] {
        255 => None,
        v => Some(v as u32),
    }
}

/// The check character for the first 17 characters, or `None` if any is outside the charset.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(CHARSET[check as usize])
}

/// Why a code is not a valid USCC, or `None` when it is.
pub fn problem(code: &str) -> Option<&'static str> {
    let b = code.as_bytes();
    if b.len() != 18 {
        return Some("USCC must have 18 characters");
    }
    if b.iter().any(|c| value_of(*c).is_none()) {
        return Some("USCC has a character outside 0-9 A-Y (no I, O, Z, S, V)");
    }
    if !b[2..8].iter().all(u8::is_ascii_digit) {
        return Some("USCC positions 3-8 must be a 6-digit division code");
    }
    if check_char(&b[..17]) != Some(b[17]) {
        return Some("USCC check character does not match (GB 32100-2015)");
    }
    None
}

pub fn is_valid(code: &str) -> bool {
    problem(code).is_none()
}

/// Builds a valid code from its parts; `org` is 9 charset characters.
pub fn compose(authority: u8, kind: u8, region: &str, org: &[u8; 9]) -> String {
    let mut s = Vec::with_capacity(18);
    s.push(authority);
    s.push(kind);
    s.extend_from_slice(region.as_bytes());
    s.extend_from_slice(org);
    let c = check_char(&s).expect("compose is given charset characters");
    s.push(c);
    String::from_utf8(s).expect("ascii")
}
