//! Every storage operation is exercised by the conformance suite, which
//! both engines run: an operation declared in the domain's roles and
//! called nowhere in the suite fails here.

use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The operations the roles declare: `read name(`, `write name(`, …
fn declared_operations(roles: &str) -> Vec<String> {
    const KINDS: [&str; 7] = [
        "read",
        "statement",
        "write",
        "stream",
        "custom",
        "custom_stream",
        "plain",
    ];
    roles
        .lines()
        .filter_map(|line| {
            let (kind, rest) = line.trim_start().split_once(' ')?;
            let name = rest.split_once('(')?.0;
            let is_name =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            (KINDS.contains(&kind) && is_name).then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn every_storage_operation_has_a_conformance_case() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let roles = read(&here.join("../connecticket-domain/src/store/roles.rs"));
    let operations = declared_operations(&roles);
    assert!(
        operations.len() > 70,
        "the roles' operations: {operations:?}"
    );
    let suite_dir = here.join("src/testing/conformance");
    let suite: String = std::fs::read_dir(&suite_dir)
        .expect("the suite's folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| read(&path))
        .collect();
    let untested: Vec<&String> = operations
        .iter()
        .filter(|name| !suite.contains(&format!(".{name}(")))
        .collect();
    assert!(
        untested.is_empty(),
        "operations no conformance case calls: {untested:?}"
    );
}
