//! Stable hashes: the same on every machine and run (model ids, pseudo-random baselines).

/// A hash that is the same on every machine and run (FNV-1a, 64 bit).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// SHA-256 of bytes as lowercase hex.
pub fn hex_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // One allocation (a `format!` per byte made it the hot spot of hashing many short keys).
    let mut out = String::with_capacity(64);
    for b in sha2::Sha256::digest(bytes) {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}
