//! Who acts on the office's objects: an operator account (console session or its API
//! token, or their app session at the counter), scoped to their office and role, or a
//! token of the configuration file (deprecated: its office if it names one, else every
//! office's requests). An object of another office is, to them,
//! an object that does not exist.

use tessera_protocol::refusal::Refusal;

use crate::accounts::Role;
use crate::store::audit::Event;

/// What a role is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Serve the office's holders: register, hand over, activate, change lifecycles.
    Office,
    /// Decide about renewals (approve, refuse, close): the office's supervisor.
    Decide,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    /// None: a configuration-file token naming no office, over every office.
    pub office: Option<String>,
    pub role: Option<Role>,
    /// The client address, for the audit log.
    pub address: Option<String>,
}

impl Actor {
    /// An operator account acting from `address`, in its office and role.
    pub fn of_account(account: &crate::store::accounts::Account, address: Option<String>) -> Actor {
        Actor { name: account.name.clone(), office: Some(account.office.clone()), role: Some(account.role), address }
    }

    /// Whether an object of `office` (None: made before offices, or through a
    /// configuration token) is this actor's to see.
    pub fn sees(&self, office: Option<&str>) -> bool {
        match &self.office {
            None => true,
            Some(mine) => office == Some(mine.as_str()),
        }
    }

    /// Whether the actor's role does `duty` (a configuration token, from before roles,
    /// does everything it did then).
    pub fn may(&self, duty: Duty) -> Result<(), Refusal> {
        let allowed = match (self.role, duty) {
            (None, _) => true,
            (Some(r), Duty::Office) => r.serves_office(),
            (Some(r), Duty::Decide) => r == Role::Supervisor,
        };
        if allowed {
            Ok(())
        } else {
            Err(Refusal::RoleRefused { role: self.role.map(|r| r.name()).unwrap_or("").to_owned() })
        }
    }

    /// An account (not a configuration token): its requests follow the office's workflow
    /// (identified and verified before their code is made).
    pub fn follows_workflow(&self) -> bool {
        self.role.is_some()
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
