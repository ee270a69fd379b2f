/// docs/data-contract.md is generated from the contract registry; regenerate with
/// `RISKWARN_UPDATE_DOCS=1 cargo test --release --test cli contract_docs`.
#[test]
fn data_contract_doc_matches_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/data-contract.md");
    let expected = riskwarn::contract::markdown();
    if std::env::var_os("RISKWARN_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(actual == expected, "docs/data-contract.md is stale; regenerate it (see this test's doc comment)");
}

#[test]
fn ownership_is_documented_as_never_a_feature() {
    let c = riskwarn::contract::SUBJECTS.column("ownership").unwrap();
    assert!(c.doc.contains("never a model feature"));
}
