//! Who acts on the office's objects: an operator account (console session or its API
//! token), scoped to their office and role, or a token of the configuration file
//! (deprecated: no office, sees every request). An object of another office is, to them,
//! an object that does not exist.

use crate::accounts::Role;
use crate::store::audit::Event;

#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    /// None: a configuration-file token, over every office.
    pub office: Option<String>,
    pub role: Option<Role>,
    /// The client address, for the audit log.
    pub address: Option<String>,
}

impl Actor {
    /// Whether an object of `office` (None: made before offices, or through a
    /// configuration token) is this actor's to see.
    pub fn sees(&self, office: Option<&str>) -> bool {
        match &self.office {
            None => true,
            Some(mine) => office == Some(mine.as_str()),
        }
    }

    /// The audit entry of an action of this actor.
    pub fn event<'a>(&'a self, action: &'a str, subject: &'a str, detail: &'a str) -> Event<'a> {
        Event {
            actor: &self.name,
            office: self.office.as_deref(),
            action,
            subject,
            detail,
            address: self.address.as_deref(),
        }
    }

    /// The office filter of a search: this actor's office, or every office.
    pub fn office_filter(&self) -> &str {
        self.office.as_deref().unwrap_or("")
    }
}
