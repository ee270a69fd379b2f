use riskwarn::uscc;

#[test]
fn published_codes_are_valid() {
    // Real codes quoted in DOMAIN.md.
    for code in ["91350100M000100Y43", "91110000600037341L"] {
        assert_eq!(uscc::problem(code), None, "{code}");
        assert_eq!(uscc::check_char(&code.as_bytes()[..17]), Some(code.as_bytes()[17]));
    }
}

#[test]
fn check_character_known_answer() {
    // The published code 91350100M000100Y43 ends in '3'; recompute it straight from the
    // standard's character values and weights, independently of the library.
    let code = b"91350100M000100Y4";
    let charset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: usize = code.iter().zip(weights).map(|(c, w)| charset.find(*c as char).unwrap() * w).sum();
    let expected = charset.as_bytes()[(31 - sum % 31) % 31];
    assert_eq!(expected, b'3');
    assert_eq!(uscc::check_char(code), Some(b'3'));
}

#[test]
fn every_wrong_check_character_is_rejected() {
    let good = "91110000600037341L";
    for c in uscc::CHARSET.iter().filter(|c| **c != b'L') {
        let mut bad = good.as_bytes().to_vec();
        bad[17] = *c;
        let bad = String::from_utf8(bad).unwrap();
        assert!(uscc::problem(&bad).unwrap().contains("check character"), "{bad}");
    }
}

#[test]
fn malformed_codes_say_why() {
    assert!(uscc::problem("9111000060003734").unwrap().contains("18 characters"));
    assert!(uscc::problem("91110000600037341I").unwrap().contains("outside"));
    assert!(uscc::problem("911100006000373410O").is_some());
    assert!(uscc::problem("91AB0000600037341L").unwrap().contains("division code"));
}

#[test]
fn composed_codes_are_valid_and_distinct() {
    let mut seen = std::collections::HashSet::new();
    for i in (0..200_000u64).step_by(7) {
        let c = riskwarn::generate::subject_uscc(i, b'2', "140525");
        assert!(uscc::is_valid(&c), "{c}");
        assert_eq!(&c[2..8], "140525");
        assert!(seen.insert(c));
    }
}
