//! One trussed dispatcher for the backends opcard needs: software RSA (trussed-rsa-alloc),
//! PIN storage with retry counters (trussed-auth-backend), and the staging extensions
//! (chunked, wrap-key-to-file, hpke); everything else goes to trussed's core backend.

use trussed::Platform;
use trussed::backend::{Backend as _, BackendId};
use trussed::serde_extensions::{ExtensionDispatch, ExtensionId, ExtensionImpl};
use trussed::service::ServiceResources;
use trussed::types::Context;
use trussed_auth::AuthExtension;
use trussed_auth_backend::{AuthBackend, AuthContext, FilesystemLayout};
use trussed_chunked::ChunkedExtension;
use trussed_core::Error;
use trussed_core::api::{Reply, Request, reply, request};
use trussed_core::types::Location;
use trussed_hpke::HpkeExtension;
use trussed_rsa_alloc::SoftwareRsa;
use trussed_staging::{StagingBackend, StagingContext};
use trussed_wrap_key_to_file::WrapKeyToFileExtension;

pub struct Dispatcher {
    auth: AuthBackend,
    staging: StagingBackend,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Dispatcher { auth: AuthBackend::new(Location::Internal, FilesystemLayout::V0), staging: StagingBackend::new() }
    }
}

pub enum Backends {
    Rsa,
    Auth,
    Staging,
}

/// The backends in the order a request tries them.
pub const BACKENDS: &[BackendId<Backends>] = &[
    BackendId::Custom(Backends::Rsa),
    BackendId::Custom(Backends::Auth),
    BackendId::Custom(Backends::Staging),
    BackendId::Core,
];

#[derive(Default)]
pub struct Contexts {
    auth: AuthContext,
    staging: StagingContext,
}

pub enum Extensions {
    Auth,
    Chunked,
    WrapKeyToFile,
    Hpke,
}

impl From<Extensions> for u8 {
    fn from(e: Extensions) -> u8 {
        match e {
            Extensions::Auth => 0,
            Extensions::Chunked => 1,
            Extensions::WrapKeyToFile => 2,
            Extensions::Hpke => 3,
        }
    }
}

impl TryFrom<u8> for Extensions {
    type Error = Error;
    fn try_from(v: u8) -> Result<Self, Error> {
        Ok(match v {
            0 => Extensions::Auth,
            1 => Extensions::Chunked,
            2 => Extensions::WrapKeyToFile,
            3 => Extensions::Hpke,
            _ => return Err(Error::FunctionNotSupported),
        })
    }
}

macro_rules! extension_ids {
    ($($ext:ty => $id:expr),*) => {$(
        impl ExtensionId<$ext> for Dispatcher {
            type Id = Extensions;
            const ID: Extensions = $id;
        }
    )*};
}

extension_ids!(
    AuthExtension => Extensions::Auth,
    ChunkedExtension => Extensions::Chunked,
    WrapKeyToFileExtension => Extensions::WrapKeyToFile,
    HpkeExtension => Extensions::Hpke
);

impl ExtensionDispatch for Dispatcher {
    type BackendId = Backends;
    type Context = Contexts;
    type ExtensionId = Extensions;

    fn core_request<P: Platform>(
        &mut self,
        backend: &Backends,
        ctx: &mut Context<Contexts>,
        request: &Request,
        resources: &mut ServiceResources<P>,
    ) -> Result<Reply, Error> {
        match backend {
            Backends::Rsa => SoftwareRsa.request(&mut ctx.core, &mut (), request, resources),
            Backends::Auth => self.auth.request(&mut ctx.core, &mut ctx.backends.auth, request, resources),
            Backends::Staging => self.staging.request(&mut ctx.core, &mut ctx.backends.staging, request, resources),
        }
    }

    fn extension_request<P: Platform>(
        &mut self,
        backend: &Backends,
        extension: &Extensions,
        ctx: &mut Context<Contexts>,
        request: &request::SerdeExtension,
        resources: &mut ServiceResources<P>,
    ) -> Result<reply::SerdeExtension, Error> {
        let (core, backends) = (&mut ctx.core, &mut ctx.backends);
        match (backend, extension) {
            (Backends::Auth, Extensions::Auth) => ExtensionImpl::<AuthExtension>::extension_request_serialized(
                &mut self.auth,
                core,
                &mut backends.auth,
                request,
                resources,
            ),
            (Backends::Staging, Extensions::Chunked) => {
                ExtensionImpl::<ChunkedExtension>::extension_request_serialized(
                    &mut self.staging,
                    core,
                    &mut backends.staging,
                    request,
                    resources,
                )
            }
            (Backends::Staging, Extensions::WrapKeyToFile) => {
                ExtensionImpl::<WrapKeyToFileExtension>::extension_request_serialized(
                    &mut self.staging,
                    core,
                    &mut backends.staging,
                    request,
                    resources,
                )
            }
            (Backends::Staging, Extensions::Hpke) => ExtensionImpl::<HpkeExtension>::extension_request_serialized(
                &mut self.staging,
                core,
                &mut backends.staging,
                request,
                resources,
            ),
            _ => Err(Error::RequestNotAvailable),
        }
    }
}
