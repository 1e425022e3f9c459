use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::layer::Shared;
use super::{Check, RejectionKind, ResponseBody, ResponseFuture, TokenRef, Verdict};
use crate::claims::NoClaims;

/// The service made by [`AuthLayer`](super::AuthLayer): verifies the access
/// token, then calls the inner service or answers the refusal itself.
pub struct Auth<S, C = NoClaims> {
    inner: S,
    shared: Arc<Shared<C>>,
}

impl<S, C> Auth<S, C> {
    pub(crate) fn from_shared(inner: S, shared: Arc<Shared<C>>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for Auth<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let shared = &*self.shared;
        let claims = match shared.authenticate(request.headers()) {
            Ok(claims) => claims,
            Err(kind) => return ResponseFuture::rejected(shared.responder.reject(kind)),
        };
        let check = match &shared.check {
            None => Check::Ready(Verdict::Valid),
            Some(check) => check.check(TokenRef {
                sub: claims.sub(),
                sid: claims.sid(),
                jti: claims.jti(),
                iat: claims.iat(),
                exp: claims.exp(),
            }),
        };
        request.extensions_mut().insert(claims);

        match check {
            Check::Ready(Verdict::Valid) => ResponseFuture::called(self.inner.call(request)),
            Check::Ready(verdict) => {
                ResponseFuture::rejected(shared.responder.reject(refusal(verdict)))
            }
            Check::Pending(check) => {
                // The inner service is called only after the check, from the
                // future: take the instance that was polled ready and leave
                // a fresh clone here for the next request.
                let fresh = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, fresh);
                ResponseFuture::checking(check, ready, request, Arc::clone(&shared.responder))
            }
        }
    }
}

pub(crate) fn refusal(verdict: Verdict) -> RejectionKind {
    match verdict {
        Verdict::Unavailable => RejectionKind::Unavailable,
        _ => RejectionKind::Revoked,
    }
}

impl<S: Clone, C> Clone for Auth<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for Auth<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
