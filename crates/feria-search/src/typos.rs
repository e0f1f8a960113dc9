//! A word that may be mistyped: the automaton of the words one edit away from it (a swap of two
//! letters counting as one edit), as tantivy's `FuzzyTermQuery` matches them, but built once per
//! word and shared by every field the word is looked for in (building it is most of the cost of
//! a typo-tolerant search).

use std::sync::{Arc, OnceLock};

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::query::{AutomatonWeight, EnableScoring, Query, Weight};
use tantivy::schema::Field;
use tantivy_fst::Automaton;

/// The words at most one edit away from one word.
pub struct OneEdit(DFA);

impl OneEdit {
    pub fn of(word: &str) -> Arc<OneEdit> {
        static BUILDER: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
        Arc::new(OneEdit(BUILDER.get_or_init(|| LevenshteinAutomatonBuilder::new(1, true)).build_dfa(word)))
    }
}

impl Automaton for OneEdit {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Documents with a term of `field` within one edit of the word; every match scores the same.
#[derive(Clone)]
pub struct OneEditQuery {
    pub field: Field,
    pub automaton: Arc<OneEdit>,
}

impl std::fmt::Debug for OneEditQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OneEditQuery({:?})", self.field)
    }
}

impl Query for OneEditQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<OneEdit>::new(self.field, self.automaton.clone())))
    }
}
