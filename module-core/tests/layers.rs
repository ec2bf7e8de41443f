//! The layer rule of `module-core` (docs/architecture.md): platform ← domains ← api/batch (the
//! platform names no domain), and a domain reaches another only where this list allows it. The
//! list is today's arrows, each with its reason; a new arrow fails this test, and an arrow that
//! goes away must leave the list, so it only shrinks. Identity reaches no other domain: what they do when an account closes or
//! its password changes, they do through identity's ports (`identity::closing`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The domains: what the product does. Everything else at the top of `src/` is platform.
const DOMAINS: [&str; 8] = [
    "calendar",
    "community",
    "daily",
    "identity",
    "moderation",
    "notification",
    "place",
    "shop",
];

/// `(from, to, why)`: the arrows between modules that are allowed today.
const ALLOWED: [(&str, &str, &str); 17] = [
    // Every domain knows who acts: user ids, roles, the write and publish guards.
    ("community", "identity", "users, roles and the write guards"),
    ("calendar", "identity", "users, accounts and feed secrets"),
    ("daily", "identity", "users and the write guards"),
    ("moderation", "identity", "users and the publish guard"),
    ("notification", "identity", "users"),
    ("place", "identity", "users and the write guards"),
    ("shop", "identity", "users, addresses and the write guards"),
    // Notifications are a domain others publish to (through the outbox).
    (
        "community",
        "notification",
        "chat notifies the member who is away",
    ),
    ("calendar", "notification", "reminders and d-days"),
    ("daily", "notification", "the daily question"),
    ("shop", "notification", "order and billing notices"),
    (
        "moderation",
        "notification",
        "authors and reporters told of decisions",
    ),
    // A block hides the blocked member's album photos too: one rule, the community's.
    (
        "daily",
        "community",
        "a block hides album photos as it hides posts",
    ),
    // Pets belong to the community; the calendar and d-days are about them.
    (
        "calendar",
        "community",
        "pets of calendar events and d-days",
    ),
    // Moderation acts on every kind of content, in its tables, as readers see it.
    (
        "moderation",
        "community",
        "who reads hidden content (Viewer); admins search content as the boards do",
    ),
    (
        "moderation",
        "daily",
        "a private album photo is its owner's alone",
    ),
    // Places are read like community content.
    (
        "place",
        "community",
        "who reads hidden places and reviews (Viewer), and search",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source file names through `crate::`, grouped imports included
/// (`crate::{identity::UserId, shop::OrderStatus}`).
fn modules_named(source: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items at its first level (`a::{…}`, `b`), up to its closing brace:
            // each names the module its first segment is.
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        named.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            named.insert(first_segment(&item));
        } else {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            named.insert(word);
        }
    }
    named
}

/// `identity::{Role, UserId}` → `identity`.
fn first_segment(item: &str) -> String {
    item.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn modules_reach_only_the_domains_they_are_allowed_to() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let from = relative
            .components()
            .next()
            .and_then(|first| first.as_os_str().to_str())
            .map(|first| first.trim_end_matches(".rs").to_owned())
            .expect("a module");
        if ["lib", "schema", "testing"].contains(&from.as_str()) {
            continue; // the crate root, the generated tables and the test helpers
        }
        let source = std::fs::read_to_string(&file).expect("source");
        for to in modules_named(&source) {
            if to != from && DOMAINS.contains(&to.as_str()) {
                found
                    .entry((from.clone(), to))
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    let allowed: BTreeSet<(String, String)> = ALLOWED
        .iter()
        .map(|(from, to, _)| ((*from).to_owned(), (*to).to_owned()))
        .collect();
    let unexpected: Vec<_> = found
        .iter()
        .filter(|(arrow, _)| !allowed.contains(*arrow))
        .collect();
    assert!(
        unexpected.is_empty(),
        "arrows the layer rule does not allow (platform ← domains; a domain reaches another \
         only through the list in tests/layers.rs): {unexpected:#?}"
    );
    let gone: Vec<_> = allowed
        .iter()
        .filter(|arrow| !found.contains_key(*arrow))
        .collect();
    assert!(
        gone.is_empty(),
        "arrows that no longer exist: take them off the list so that it only shrinks: {gone:#?}"
    );
}

#[test]
fn grouped_imports_are_read() {
    let named = modules_named(
        "use crate::{identity::{Role, UserId}, shop::OrderStatus};\nlet x = crate::place::find();",
    );
    assert_eq!(
        named,
        ["identity", "place", "shop"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}
