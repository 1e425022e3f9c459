use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Either, Full};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::layer::Responder;
use super::service::refusal;
use super::{ResponseBody, Verdict};

type PendingCheck = Pin<Box<dyn Future<Output = Verdict> + Send + 'static>>;

pin_project! {
    /// The response future of [`Auth`](super::Auth).
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        // Boxed, since only a store that waits on I/O needs it: the future
        // of every other request stays as small as the inner one's.
        Checking {
            pending: Box<Pending<S, ReqBody>>,
        },
        Called {
            #[pin]
            future: S::Future,
        },
        Rejected {
            response: Option<Response<Full<Bytes>>>,
        },
    }
}

/// A request waiting for its revocation check, with the service to call.
struct Pending<S, ReqBody> {
    check: PendingCheck,
    service: Option<S>,
    request: Option<Request<ReqBody>>,
    responder: Arc<Responder>,
}

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn called(future: S::Future) -> Self {
        Self {
            state: State::Called { future },
        }
    }

    pub(crate) fn rejected(response: Response<Full<Bytes>>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn checking(
        check: PendingCheck,
        service: S,
        request: Request<ReqBody>,
        responder: Arc<Responder>,
    ) -> Self {
        let pending = Pending {
            check,
            service: Some(service),
            request: Some(request),
            responder,
        };
        Self {
            state: State::Checking {
                pending: Box::new(pending),
            },
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Called { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(Either::Left)));
                }
                StateProj::Rejected { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response.map(Either::Right)));
                }
                StateProj::Checking { pending } => match ready!(pending.check.as_mut().poll(cx)) {
                    Verdict::Valid => {
                        let (Some(mut service), Some(request)) =
                            (pending.service.take(), pending.request.take())
                        else {
                            panic!("ResponseFuture polled after completion");
                        };
                        State::Called {
                            future: service.call(request),
                        }
                    }
                    verdict => State::Rejected {
                        response: Some(pending.responder.reject(refusal(verdict))),
                    },
                },
            };
            this.state.set(next);
        }
    }
}
