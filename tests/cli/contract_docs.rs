/// docs/data-contract.md is generated from the contract registry.
#[test]
fn data_contract_doc_matches_code() {
    crate::support::assert_generated_doc("docs/data-contract.md", &riskwarn::contract::markdown());
}

#[test]
fn ownership_is_documented_as_never_a_feature() {
    let c = riskwarn::contract::SUBJECTS.column("ownership").unwrap();
    assert!(c.doc.contains("never a model feature"));
}
