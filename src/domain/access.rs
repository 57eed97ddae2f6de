//! Need to know as data: roles, their grants per layer, and the caller ([`Viewer`]).
//!
//! The rules live in one readable file (`config/roles.toml`, compiled in as the default); the
//! service applies them in one place (`service::visibility`). Nothing here does I/O.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::feature::Classification;
use super::layer::Layer;

/// The role file shipped with lagesbild: the defaults for the roles of the product brief.
pub const DEFAULT_ROLES_TOML: &str = include_str!("../../config/roles.toml");

str_enum! {
    /// How much of a layer a role may see, from nothing to everything.
    pub enum Precision {
        /// The layer does not exist for the role.
        None = "none",
        /// Counts per area or grid cell only, cells with fewer than 3 features suppressed.
        Aggregate = "aggregate",
        /// Positions snapped to a 250 m grid cell; properties reduced to category, week and area.
        Coarse = "coarse",
        /// Everything (less any hidden properties).
        Exact = "exact",
    }
}

str_enum! {
    /// Which features a write permission covers.
    pub enum Scope {
        /// No feature.
        None = "none",
        /// Features of the caller's own organisation.
        Own = "own",
        /// Every feature the role can see.
        All = "all",
    }
}

str_enum! {
    /// A change a role may be allowed to make.
    pub enum Action {
        /// Add a feature.
        Create = "create",
        /// Replace or patch a feature.
        Edit = "edit",
        /// Delete a feature.
        Delete = "delete",
    }
}

/// What one role may do with one layer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LayerGrant {
    /// How much it may see.
    pub read: Precision,
    /// Which features it may add.
    #[serde(default = "scope_none")]
    pub create: Scope,
    /// Which features it may change.
    #[serde(default = "scope_none")]
    pub edit: Scope,
    /// Which features it may delete.
    #[serde(default = "scope_none")]
    pub delete: Scope,
    /// Properties removed even at exact precision (e.g. the police `reference`).
    #[serde(default)]
    pub hide: Vec<String>,
}

const fn scope_none() -> Scope {
    Scope::None
}

impl LayerGrant {
    /// No access at all.
    #[must_use]
    pub const fn nothing() -> Self {
        Self {
            read: Precision::None,
            create: Scope::None,
            edit: Scope::None,
            delete: Scope::None,
            hide: Vec::new(),
        }
    }

    /// The scope of `action`.
    #[must_use]
    pub const fn scope(&self, action: Action) -> Scope {
        match action {
            Action::Create => self.create,
            Action::Edit => self.edit,
            Action::Delete => self.delete,
        }
    }
}

/// A role: a name people recognise, a classification ceiling and one grant per layer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// The Swedish name shown in the client.
    pub label: String,
    /// What the role is for.
    #[serde(default)]
    pub description: String,
    /// The most sensitive classification it may see or write.
    pub ceiling: Classification,
    /// May manage accounts and read the audit log.
    #[serde(default)]
    pub admin: bool,
    /// Grants per layer; a layer left out is [`LayerGrant::nothing`].
    #[serde(default)]
    pub layers: BTreeMap<Layer, LayerGrant>,
}

impl Role {
    /// The grant for `layer`.
    #[must_use]
    pub fn grant(&self, layer: Layer) -> &LayerGrant {
        static NOTHING: LayerGrant = LayerGrant::nothing();
        self.layers.get(&layer).unwrap_or(&NOTHING)
    }
}

/// Every role, by its id (`police`, `night_walker`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleBook {
    roles: BTreeMap<String, Arc<Role>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    roles: BTreeMap<String, Role>,
}

/// A role file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("role file: {0}")]
pub struct RoleFileError(pub String);

impl RoleBook {
    /// Reads a role file (TOML; see `config/roles.toml`).
    ///
    /// # Errors
    /// Syntax errors, unknown keys, layers or values, a role without any grant, or no admin role.
    pub fn from_toml(text: &str) -> Result<Self, RoleFileError> {
        let file: RoleFile = toml_from_str(text)?;
        if !file.roles.values().any(|r| r.admin) {
            return Err(RoleFileError(
                "no role has admin = true; someone must be able to manage accounts".into(),
            ));
        }
        for (id, role) in &file.roles {
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(RoleFileError(format!(
                    "role id '{id}': use lowercase letters and '_' only"
                )));
            }
            for (layer, g) in &role.layers {
                let writes = [g.edit, g.delete].iter().any(|s| *s != Scope::None);
                if writes && g.read != Precision::Exact {
                    return Err(RoleFileError(format!(
                        "role '{id}', layer '{layer}': edit and delete need read = \"exact\" (a role cannot change what it cannot see)"
                    )));
                }
            }
        }
        Ok(Self {
            roles: file
                .roles
                .into_iter()
                .map(|(k, v)| (k, Arc::new(v)))
                .collect(),
        })
    }

    /// The shipped defaults.
    ///
    /// # Errors
    /// Only if the shipped file is broken (a test guards it).
    pub fn defaults() -> Result<Self, RoleFileError> {
        Self::from_toml(DEFAULT_ROLES_TOML)
    }

    /// A role by id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Arc<Role>> {
        self.roles.get(id)
    }

    /// Every role id, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Every role with its id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Role>)> {
        self.roles.iter().map(|(k, v)| (k.as_str(), v))
    }
}

fn toml_from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, RoleFileError> {
    use figment::providers::{Format, Toml};
    figment::Figment::from(Toml::string(text))
        .extract()
        .map_err(|e| RoleFileError(e.to_string()))
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// A web session cookie (writes need the CSRF token).
    Session,
    /// An API token (`Authorization: Bearer …`).
    Token,
    /// The command line on the server itself.
    Local,
}

/// Who is asking, with what role: an argument of every service call that returns data.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The account name.
    pub user: Arc<str>,
    /// The account's organisation (decides "own" features).
    pub organisation: Arc<str>,
    /// The role id.
    pub role_id: Arc<str>,
    /// The role.
    pub role: Arc<Role>,
    /// How the caller signed in.
    pub via: Via,
    /// Where the request came from (for the audit log).
    pub address: Option<Arc<str>>,
}

impl fmt::Display for Viewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.user, self.role_id, self.organisation)
    }
}

impl Viewer {
    /// The precision the viewer has on `layer`.
    #[must_use]
    pub fn precision(&self, layer: Layer) -> Precision {
        self.role.grant(layer).read
    }

    /// Whether a feature of this classification exists for the viewer at all.
    #[must_use]
    pub fn may_see_classification(&self, c: Classification) -> bool {
        c <= self.role.ceiling
    }

    /// Whether the viewer may do `action` on a feature of `organisation` in `layer`.
    #[must_use]
    pub fn may(&self, action: Action, layer: Layer, organisation: &str) -> bool {
        match self.role.grant(layer).scope(action) {
            Scope::None => false,
            Scope::Own => *organisation == *self.organisation,
            Scope::All => true,
        }
    }

    /// A viewer for work the server does by itself (the retention job), with `role`.
    #[must_use]
    pub fn system(user: &str, role_id: &str, role: Arc<Role>) -> Self {
        Self {
            user: Arc::from(user),
            organisation: Arc::from(""),
            role_id: Arc::from(role_id),
            role,
            via: Via::Local,
            address: Some(Arc::from("local")),
        }
    }

    /// The command line's viewer: a local administrator (the person at the server's console
    /// already holds the database file or URL).
    #[must_use]
    pub fn local(role_id: &str, role: Arc<Role>) -> Self {
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        Self::system(&format!("cli:{user}"), role_id, role)
    }
}

/// The roles as a Markdown table: one row per role, one column per layer (`lagesbild roles`).
#[must_use]
pub fn matrix_markdown(book: &RoleBook) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("| role | ceiling |");
    for l in Layer::ALL {
        let _ = write!(out, " {l} |");
    }
    out.push_str("\n| --- | --- |");
    for _ in Layer::ALL {
        out.push_str(" --- |");
    }
    for (id, role) in book.iter() {
        let admin = if role.admin { ", admin" } else { "" };
        let _ = write!(out, "\n| {id} ({}) | {}{admin} |", role.label, role.ceiling);
        for l in Layer::ALL {
            let g = role.grant(*l);
            let mut cell = g.read.as_str().to_owned();
            let writes: Vec<String> = [("c", g.create), ("e", g.edit), ("d", g.delete)]
                .iter()
                .filter(|(_, s)| *s != Scope::None)
                .map(|(a, s)| format!("{a}:{s}"))
                .collect();
            if !writes.is_empty() {
                let _ = write!(cell, " ({})", writes.join(" "));
            }
            if !g.hide.is_empty() {
                let _ = write!(cell, " −{}", g.hide.join(","));
            }
            let _ = write!(out, " {cell} |");
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_roles_load_and_cover_the_product_brief() {
        let book = RoleBook::defaults().unwrap();
        for id in [
            "police",
            "security_coordinator",
            "social_services",
            "field_worker",
            "night_walker",
            "meeting_viewer",
            "admin",
        ] {
            assert!(book.get(id).is_some(), "{id}");
        }
        let walker = book.get("night_walker").unwrap();
        assert_ne!(walker.grant(Layer::Incidents).read, Precision::Exact);
        assert_eq!(walker.ceiling, Classification::Open);
        let police = book.get("police").unwrap();
        assert_eq!(police.grant(Layer::Incidents).read, Precision::Exact);
        assert!(
            book.get("security_coordinator")
                .unwrap()
                .grant(Layer::Incidents)
                .hide
                .contains(&"reference".to_owned())
        );
    }

    #[test]
    fn bad_role_files_are_refused_with_a_reason() {
        let e = RoleBook::from_toml("[roles.x]\nlabel='X'\nceiling='open'\n").unwrap_err();
        assert!(e.0.contains("admin"), "{e}");
        let e = RoleBook::from_toml("[roles.a]\nlabel='A'\nceiling='secret'\nadmin=true\n")
            .unwrap_err();
        assert!(e.0.contains("secret"), "{e}");
        let e = RoleBook::from_toml(
            "[roles.a]\nlabel='A'\nceiling='open'\nadmin=true\n[roles.a.layers.incidents]\nread='coarse'\nedit='all'\n",
        )
        .unwrap_err();
        assert!(e.0.contains("exact"), "{e}");
        let e = RoleBook::from_toml(
            "[roles.a]\nlabel='A'\nceiling='open'\nadmin=true\n[roles.a.layers.boats]\nread='exact'\n",
        )
        .unwrap_err();
        assert!(e.0.contains("boats"), "{e}");
    }

    #[test]
    fn own_scope_means_the_viewers_organisation() {
        let book = RoleBook::defaults().unwrap();
        let v = Viewer {
            user: "u".into(),
            organisation: "Polisen".into(),
            role_id: "police".into(),
            role: Arc::clone(book.get("police").unwrap()),
            via: Via::Token,
            address: None,
        };
        assert!(v.may(Action::Edit, Layer::Incidents, "Polisen"));
        assert!(!v.may(Action::Edit, Layer::Incidents, "Botkyrka kommun"));
    }
}
