//! Several providers in the order the shop chose: each is tried again while its refusals say a
//! retry may work (waiting as long as it asked, within a cap, or with exponential backoff), and
//! the next is asked when one gives up.

use std::time::Duration;

use tokio::sync::mpsc;

use super::{ChatModel, ChatRequest, Completion, LlmError};

/// One provider: its name, the model asked for there, and its client.
pub struct Provider {
    pub name: String,
    pub model: String,
    pub client: Box<dyn ChatModel>,
}

/// The providers in order, and how hard each is tried.
pub struct Fallback {
    pub providers: Vec<Provider>,
    /// Calls per provider at most.
    pub attempts: u32,
    /// The first wait between calls; it doubles.
    pub backoff: Duration,
    /// The longest wait, whatever a provider asks for.
    pub max_wait: Duration,
}

/// The answer and which provider gave it, with the refusals met on the way.
pub struct Answered<'a> {
    pub provider: &'a Provider,
    pub completion: Completion,
    pub refusals: Vec<(&'a str, LlmError)>,
}

impl Fallback {
    /// `request` (its model replaced by each provider's) to the providers in order; every
    /// refusal, by provider, when none answered.
    pub async fn complete(&self, request: &ChatRequest<'_>) -> Result<Answered<'_>, Vec<(&str, LlmError)>> {
        self.run(request, None).await
    }

    /// The same, streamed to `text`; once a provider sent a piece, its failure is final (the
    /// reader already has part of its answer).
    pub async fn stream(&self, request: &ChatRequest<'_>, text: &mpsc::Sender<String>) -> Result<Answered<'_>, Vec<(&str, LlmError)>> {
        self.run(request, Some(text)).await
    }

    async fn run(&self, request: &ChatRequest<'_>, text: Option<&mpsc::Sender<String>>) -> Result<Answered<'_>, Vec<(&str, LlmError)>> {
        let mut refusals = Vec::new();
        for provider in &self.providers {
            let asked = ChatRequest { model: &provider.model, ..request.clone() };
            let mut wait = self.backoff;
            for attempt in 1..=self.attempts.max(1) {
                let (answer, sent) = match text {
                    None => (provider.client.complete(&asked).await, false),
                    Some(text) => streamed(provider.client.as_ref(), &asked, text).await,
                };
                match answer {
                    Ok(completion) => return Ok(Answered { provider, completion, refusals }),
                    Err(refused) => {
                        if sent {
                            refusals.push((provider.name.as_str(), refused));
                            return Err(refusals);
                        }
                        let retry = refused.retryable() && attempt < self.attempts;
                        let asked_wait = match &refused {
                            LlmError::Refused { retry_after: Some(after), .. } => Some(*after),
                            _ => None,
                        };
                        refusals.push((provider.name.as_str(), refused));
                        if !retry {
                            break;
                        }
                        tokio::time::sleep(asked_wait.unwrap_or(wait).min(self.max_wait)).await;
                        wait = wait.saturating_mul(2);
                    }
                }
            }
        }
        Err(refusals)
    }
}

/// One streamed call, its pieces passed on to `text`; whether any piece was.
async fn streamed(client: &dyn ChatModel, request: &ChatRequest<'_>, text: &mpsc::Sender<String>) -> (Result<Completion, LlmError>, bool) {
    let (pieces, mut received) = mpsc::channel(64);
    let call = async move {
        let answer = client.stream(request, &pieces).await;
        drop(pieces);
        answer
    };
    let pass_on = async {
        let mut sent = false;
        while let Some(piece) = received.recv().await {
            sent = true;
            let _ = text.send(piece).await;
        }
        sent
    };
    tokio::join!(call, pass_on)
}
