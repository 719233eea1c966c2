//! Roles and permissions of organizations.

use serde::{Deserialize, Serialize};

use super::common::HasId;

/// A custom organization role (`role.created`, `role.updated`, possibly `role.deleted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// The role id.
    pub id: String,
    /// Always `role`.
    pub object: Option<String>,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The key (`org:editor`).
    #[serde(default)]
    pub key: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Whether the creator of an organization can get this role.
    pub is_creator_eligible: Option<bool>,
    /// The permissions it grants.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
}

impl HasId for Role {
    fn id(&self) -> &str {
        &self.id
    }
}

/// An organization permission (`permission.created`, `permission.updated`, possibly
/// `permission.deleted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Permission {
    /// The permission id.
    pub id: String,
    /// Always `permission`.
    pub object: Option<String>,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The key (`org:posts:write`).
    #[serde(default)]
    pub key: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// `system` or `user`/`custom`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
}

impl HasId for Permission {
    fn id(&self) -> &str {
        &self.id
    }
}
