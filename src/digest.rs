//! Stable hashes: the same on every machine and run (model ids, pseudo-random baselines).

/// A hash that is the same on every machine and run (FNV-1a, 64 bit).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// SHA-256 of bytes as lowercase hex.
pub fn hex_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
