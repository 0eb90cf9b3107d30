//! What a personal API token may do. A token carries a set of scopes chosen when it is made; the
//! REST API's one route table (`server::scopes`) says which scope each route needs. Shared by the
//! server and the profile page, which offers the scopes with their descriptions.
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One thing a token may be allowed to do. Ordered by name, which is also the stored order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every admin-only endpoint; only admins can give it to a token.
    Admin,
    /// The annotation loop: the next task, submitting, skipping.
    Annotate,
    /// Any GET of the REST API that is not admin-only.
    Read,
    /// Challenge submissions (reserved: no endpoint needs it yet).
    Submit,
    /// Uploading audio and the musician's writes in the studio.
    Upload,
}

impl Scope {
    /// Every scope, in the order the profile page offers them.
    pub const ALL: [Scope; 5] = [Scope::Read, Scope::Upload, Scope::Annotate, Scope::Submit, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Annotate => "annotate",
            Scope::Read => "read",
            Scope::Submit => "submit",
            Scope::Upload => "upload",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// What the scope allows, in a person's words.
    pub fn description(self) -> &'static str {
        match self {
            Scope::Read => "read what you can see (audio, compositions, campaigns, datasets, jobs)",
            Scope::Upload => "upload audio and change your compositions, tracks, members and invitations",
            Scope::Annotate => "annotate: take the next task, submit and skip",
            Scope::Submit => "challenge submissions",
            Scope::Admin => "everything only admins may do",
        }
    }

    /// The scopes `is_admin` may give a token.
    pub fn choosable(is_admin: bool) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| is_admin || *s != Scope::Admin)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names as a client sent them → a sorted set without repeats, or a 422 naming what is wrong: an
/// unknown name, none at all, or `admin` asked for by someone who is not an admin.
pub fn parse_requested(names: &[String], is_admin: bool) -> Result<Vec<Scope>, AppError> {
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope = Scope::parse(name.trim()).ok_or_else(|| {
            AppError::Invalid(format!(
                "Unknown scope '{}'; the scopes are {}.",
                name.trim().chars().take(40).collect::<String>(),
                Scope::ALL.map(Scope::as_str).join(", ")
            ))
        })?;
        if scope == Scope::Admin && !is_admin {
            return Err(AppError::Invalid("Only admins can give a token the 'admin' scope.".into()));
        }
        scopes.push(scope);
    }
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(AppError::Invalid("Choose at least one scope for the token (for example 'read').".into()));
    }
    Ok(scopes)
}

/// The stored form: names sorted and joined by commas.
pub fn join(scopes: &[Scope]) -> String {
    let mut names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// The stored form read back; names this version does not know are dropped (they grant nothing).
pub fn split(stored: &str) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = stored.split(',').filter_map(|n| Scope::parse(n.trim())).collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_is_sorted_and_round_trips() {
        let scopes = parse_requested(&["upload".into(), "read".into(), "read".into()], false).unwrap();
        assert_eq!(join(&scopes), "read,upload");
        assert_eq!(split("upload,read,bogus"), vec![Scope::Read, Scope::Upload]);
        assert_eq!(join(&Scope::ALL), "admin,annotate,read,submit,upload");
    }

    #[test]
    fn requests_are_refused_by_name() {
        let e = parse_requested(&["read".into(), "wrte".into()], true).unwrap_err();
        assert!(e.to_string().contains("'wrte'"), "{e}");
        assert!(parse_requested(&[], true).unwrap_err().to_string().contains("at least one"));
        assert!(parse_requested(&["admin".into()], false).unwrap_err().to_string().contains("admin"));
        assert_eq!(parse_requested(&["admin".into()], true).unwrap(), vec![Scope::Admin]);
    }
}
