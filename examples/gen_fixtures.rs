//! Deterministic generator of the synthetic TCIT demo and fixture data.
//!
//! ```text
//! cargo run --example gen_fixtures            # (re)writes <crate>/fixtures/
//! cargo run --example gen_fixtures -- DIR     # writes into DIR instead
//! ```
//!
//! Writes three files:
//!
//! - `tcit_survey.csv`: 684 synthetic U.S. psychologists and trainees (therapists' crying in
//!   therapy), with the marginals of DESIGN.md section 1 and three open-ended answers;
//! - `tcit_codebook.csv`: 4 grouping parents and 15 themes beneath them;
//! - `tcit_codings.csv`: two coders ("ana", "ben") coding the first 150 offered answers, with
//!   realistic partial agreement and about 10% segment codings.
//!
//! Everything is drawn from `ChaCha8Rng` with a fixed seed (one stream per purpose), and only
//! ordered collections reach the output, so every run writes identical bytes. After writing, the
//! files are read back with the csv crate and checked (headers, references, offsets, segment
//! texts); a summary with per-code Cohen's kappa goes to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::{Path, PathBuf};

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const SEED: u64 = 0x7C17_0684;
const N_RESPONDENTS: usize = 684;
/// Respondents who ever cried in therapy: 72% of 684.
const N_CRIERS: usize = 493;
/// Criers who cried in the last four weeks: 30% of 493.
const N_CRIED_4W: usize = 148;
const N_TRAINEES: usize = 102;
const CODED_ANSWERS: usize = 150;
const CODERS: [&str; 2] = ["ana", "ben"];
/// Chance that a coder misses a true theme, and adds a spurious one, per answer.
const P_MISS: f64 = 0.15;
const P_SPURIOUS: f64 = 0.08;
/// Chance that a coder codes a true theme as a segment (the sentence expressing it) rather than
/// the whole answer, when the answer has more than one sentence.
const P_SEGMENT: f64 = 0.13;
/// First of the random streams of the coders (one each). Streams 1 and 2 make the respondents
/// and their answers, 20 the memos. This one was picked (among the even streams 10-160) so that
/// every per-code Cohen's kappa lands between about 0.7 and 0.9.
const CODER_STREAM: u64 = 122;

const QUESTIONS: [&str; 3] = [
    "consequence_client",
    "consequence_relationship",
    "consequence_therapist",
];

const SURVEY_HEADER: [&str; 19] = [
    "resp_id",
    "age",
    "sex",
    "years_experience",
    "role",
    "orientation",
    "cried_ever",
    "cried_last_4w",
    "daily_crying",
    "bf_extraversion",
    "bf_agreeableness",
    "bf_conscientiousness",
    "bf_neuroticism",
    "bf_openness",
    "empathy",
    "session_tone",
    "consequence_client",
    "consequence_relationship",
    "consequence_therapist",
];

const CODEBOOK_HEADER: [&str; 8] = [
    "name",
    "parent",
    "description",
    "inclusion",
    "exclusion",
    "example",
    "color",
    "shortcut",
];
const CODINGS_HEADER: [&str; 7] = [
    "respondent",
    "question",
    "coder",
    "code",
    "start",
    "end",
    "memo",
];

/// Orientation labels with their exact counts (35%, 23%, 19%, then the rest).
const ORIENTATIONS: [(&str, usize); 6] = [
    ("CBT", 239),
    ("eclectic-psychodynamic", 157),
    ("eclectic-other", 130),
    ("psychodynamic", 68),
    ("humanistic", 50),
    ("other", 40),
];
const O_CBT: usize = 0;
const O_ECL_PSYDYN: usize = 1;
const O_PSYDYN: usize = 3;
const O_HUMANISTIC: usize = 4;

const SEXES: [(&str, usize); 3] = [("female", 513), ("male", 163), ("non-binary", 8)];

/// Affective tone of the last session with crying, with sampling weights.
const TONES: [(&str, f64); 6] = [
    ("sad", 38.0),
    ("touching", 27.0),
    ("warm", 12.0),
    ("hopeful", 9.0),
    ("tense", 8.0),
    ("neutral", 6.0),
];
const T_SAD: usize = 0;
const T_TOUCHING: usize = 1;
const T_TENSE: usize = 4;

/// A grouping code of the codebook.
struct Parent {
    name: &'static str,
    description: &'static str,
    inclusion: &'static str,
    exclusion: &'static str,
    color: &'static str,
}

/// A codable theme, with the sentence templates that express it in answers.
///
/// Templates use `{S}`/`{s}` (the client as subject, capitalised or not), `{o}` (object) and
/// `{p}`/`{P}` (possessive). The first mention in an answer names the client ("my client",
/// "Zoë"), later ones use the pronoun.
struct Theme {
    name: &'static str,
    parent: usize,
    description: &'static str,
    inclusion: &'static str,
    exclusion: &'static str,
    example: &'static str,
    color: &'static str,
    sentences: &'static [&'static str],
    /// Rare variants (non-Latin quotes and the like), used now and then.
    rare: &'static [&'static str],
    /// Terse fragments for telegraphic answers ("more trust, felt understood").
    terse: &'static [&'static str],
}

const PARENTS: [Parent; 4] = [
    Parent {
        name: "relationship",
        description: "Grouping: what the crying changed in the therapy relationship and in the process of the session.",
        inclusion: "Not applied directly; apply one of its sub-codes.",
        exclusion: "",
        color: "#8E5BA8",
    },
    Parent {
        name: "client",
        description: "Grouping: what the crying led to for the client, as the therapist saw it.",
        inclusion: "Not applied directly; apply one of its sub-codes.",
        exclusion: "",
        color: "#3A86A8",
    },
    Parent {
        name: "therapist",
        description: "Grouping: what the crying led to for the therapist.",
        inclusion: "Not applied directly; apply one of its sub-codes.",
        exclusion: "",
        color: "#C0603A",
    },
    Parent {
        name: "no-effect",
        description: "Grouping: answers that report no consequence, or no knowledge of one.",
        inclusion: "Not applied directly; apply one of its sub-codes.",
        exclusion: "",
        color: "#6E7F6E",
    },
];
const P_RELATIONSHIP: usize = 0;
const P_CLIENT: usize = 1;
const P_THERAPIST: usize = 2;
const P_NO_EFFECT: usize = 3;

// Theme indices (codebook order).
const RAPPORT: usize = 0;
const RUPTURE: usize = 1;
const SESSION_DEEP: usize = 2;
const CARED_FOR: usize = 3;
const CARETAKING: usize = 4;
const CRIED_TOO: usize = 5;
const RELIEF: usize = 6;
const ATTENTION: usize = 7;
const EMBARRASSMENT: usize = 8;
const HUMAN: usize = 9;
const REFLECTION: usize = 10;
const SUPERVISION: usize = 11;
const NOTHING: usize = 12;
const DONT_KNOW: usize = 13;
const UNAWARE: usize = 14;

const THEMES: [Theme; 15] = [
    Theme {
        name: "rapport-deepened",
        parent: P_RELATIONSHIP,
        description: "The relationship deepened: more closeness, trust or a stronger working alliance after the crying.",
        inclusion: "Closeness, trust, bond, alliance or rapport said to have grown; the client opening up to the therapist as a person.",
        exclusion: "The client feeling understood without a change in the relationship (felt-cared-for); the session going deeper in content (session-deepened).",
        example: "It brought us closer; the alliance felt stronger from then on.",
        color: "#A855C7",
        sentences: &[
            "Our relationship [deepened|grew deeper|got deeper] after that session.",
            "It brought us closer; the alliance felt stronger [from then on|after that|for the rest of the work].",
            "{S} told me [later|a few weeks later|much later] that it was the moment {s} started to trust me.",
            "[I think|I believe|To me,] it strengthened the working alliance.",
            "The rapport improved [noticeably|a lot|right away], and {s} became more open with me.",
            "There was more trust between us [afterwards|after that|from that day on].",
            "It felt like a turning point in the relationship, we were more connected.",
            "{S} said it made me \"a real person\" and we were closer after that.",
            "We talked about it [the following week|in the next session|a few sessions later], and it deepened the work between us.",
            "The bond between us got stronger, and it stayed that way [until termination|for the rest of treatment].",
            "I felt much closer to {o} afterwards, and I think {s} felt the same.",
            "It made the relationship more real, more mutual in a good way.",
            "[Our|The] connection became [warmer|deeper|more honest] and {s} trusted me more.",
            "{S} [started|began] to bring more of {p} private life into the room, which I read as trust.",
        ],
        rare: &[],
        terse: &[
            "closer relationship",
            "deeper rapport",
            "more trust",
            "stronger alliance",
        ],
    },
    Theme {
        name: "rupture-worry",
        parent: P_RELATIONSHIP,
        description: "A rupture, strain or boundary concern in the relationship attributed to the crying.",
        inclusion: "Distance, awkwardness or withdrawal after the crying; worry about roles, boundaries or professionalism in the relationship.",
        exclusion: "The therapist's own shame without a relational concern (embarrassment); the client comforting the therapist (client-caretaking).",
        example: "I worried that I had crossed a boundary.",
        color: "#D9534F",
        sentences: &[
            "I worried that I had crossed a boundary.",
            "There was a brief rupture, and {s} seemed unsure how to respond.",
            "{S} pulled back for [a few|two or three|several] sessions and we had to repair it.",
            "I was concerned that it blurred the roles between us.",
            "It created some distance at first, and we needed to talk it through.",
            "I wondered whether I had made the session about me, which felt like a boundary issue.",
            "{S} cancelled the next appointment, and I still wonder if that was related.",
            "There was an awkward tension in the room that took [a while|some time|weeks] to settle.",
            "I worried {s} would see me as fragile and stop bringing difficult material.",
            "[It strained things for a while|Things were strained for a while], and I was not sure we would recover.",
        ],
        rare: &[],
        terse: &["some awkwardness", "boundary concerns", "brief rupture"],
    },
    Theme {
        name: "session-deepened",
        parent: P_RELATIONSHIP,
        description: "The session or the treatment went deeper: the client opened up or stayed with painful material.",
        inclusion: "New or more emotional material, a turning point in the work, the client staying with feelings longer.",
        exclusion: "Closeness or trust between client and therapist (rapport-deepened); relief at being allowed to feel (client-relief).",
        example: "The session went deeper; we got to the grief underneath.",
        color: "#6C6CE0",
        sentences: &[
            "{S} opened up about things {s} had never mentioned before.",
            "The session went deeper; we got to the [grief|anger|fear] underneath.",
            "It allowed {o} to talk about the [loss|abuse|divorce|illness] more openly.",
            "After that, {s} was able to stay with painful feelings longer.",
            "It became a turning point in the treatment, and the material got much more emotional.",
            "{S} brought up memories of {p} [father|mother|brother|grandmother] for the first time.",
            "We reached something we had been circling around for [months|weeks|a long time].",
            "{S} went further into the memory than {s} had ever gone with me.",
        ],
        rare: &[],
        terse: &["deeper session", "client opened up more"],
    },
    Theme {
        name: "felt-cared-for",
        parent: P_CLIENT,
        description: "The client felt cared for, understood or validated by the therapist's tears.",
        inclusion: "Feeling understood, seen, validated, cared for or less alone; thanking the therapist for caring.",
        exclusion: "Relief at being allowed to feel (client-relief); a change in the relationship itself (rapport-deepened).",
        example: "She told me, \"You really get it.\"",
        color: "#1F9E6F",
        sentences: &[
            "{S} felt cared for.",
            "{S} said {s} felt [truly|really|finally] understood for the first time.",
            "It showed {o} that I was genuinely moved by {p} story.",
            "{S} told me, \"You really get it.\"",
            "I believe {s} felt [seen and validated|seen|validated|heard].",
            "{S} said it meant a lot that someone cared enough to cry.",
            "It communicated empathy more than any words could have.",
            "{S} felt less alone with {p} [pain|grief|story].",
            "{S} said \"thank you\" at the end of the session, and I think {s} meant thank you for caring.",
            "{S} felt that {p} [grief|loss|suffering] was finally taken seriously.",
            "[It|My reaction] let {o} know that {p} story mattered to me.",
            "{S} [later said|told me later] that nobody had ever been moved by {p} story before.",
        ],
        rare: &[
            "{S} said \"ευχαριστώ\" on the way out, Greek for thank you, and looked at me for a long moment.",
            "{S} whispered \"ありがとう\" at the door, thank you in Japanese, {p} first language.",
            "{S} wrote in {p} next email: \"Спасибо, I felt you were really with me.\"",
        ],
        terse: &["felt understood", "felt cared for", "client felt validated"],
    },
    Theme {
        name: "client-caretaking",
        parent: P_CLIENT,
        description: "The client took care of the therapist or felt burdened or responsible for the therapist's feelings.",
        inclusion: "Comforting the therapist, asking if the therapist is okay, apologising, holding back material to protect the therapist, role reversal.",
        exclusion: "The therapist's worry about boundaries without any caretaking by the client (rupture-worry).",
        example: "She asked if I was okay and handed me a tissue.",
        color: "#D2702E",
        sentences: &[
            "{S} tried to comfort me, which reversed our roles for a moment.",
            "{S} asked if I was okay and handed me a tissue.",
            "I think {s} felt responsible for my feelings.",
            "{S} seemed to hold back afterwards, maybe to protect me.",
            "{S} apologised for upsetting me, which was not what I wanted.",
            "{S} worried about burdening me with {p} story.",
            "For a moment {s} was taking care of me instead of the other way round.",
            "{S} started checking on me at the beginning of sessions, \"Are you okay today?\"",
            "{S} [softened|edited] {p} story the next time, I suspect to spare me.",
        ],
        rare: &[],
        terse: &[
            "client worried about me",
            "role reversal",
            "client comforted me",
        ],
    },
    Theme {
        name: "client-cried-too",
        parent: P_CLIENT,
        description: "The client cried as well, or the tears were shared.",
        inclusion: "The client crying with, after or because of the therapist's tears; shared tears.",
        exclusion: "The client crying before the therapist without a link to the therapist's tears.",
        example: "We both had tears in our eyes.",
        color: "#4C8BD6",
        sentences: &[
            "{S} cried too.",
            "We both had tears in our eyes.",
            "{S} started crying as well, and we sat with it together.",
            "It gave {o} permission to cry, and {s} did.",
            "{S} cried with me for a while, quietly.",
            "{P} eyes filled up too, and neither of us said anything for [a minute|a while|some time].",
            "{S} [began|started] to cry [too|as well], for the first time in our work.",
        ],
        rare: &[],
        terse: &["client cried too", "we both cried"],
    },
    Theme {
        name: "client-relief",
        parent: P_CLIENT,
        description: "The client felt relief, or permission to feel and express emotion.",
        inclusion: "Relief, release, emotions normalised, learning that tears are acceptable.",
        exclusion: "Feeling understood or cared for (felt-cared-for); the client crying as well (client-cried-too).",
        example: "It normalised crying for him; he said it was a relief.",
        color: "#5E9C3A",
        sentences: &[
            "{S} seemed relieved, as if {s} had permission to feel.",
            "It normalised crying for {o}, and {s} said it was a relief.",
            "{S} learned that strong emotions are acceptable and survivable.",
            "There was a sense of relief in the room afterwards.",
            "{S} said it helped {o} let go of some shame about {p} own tears.",
            "It modelled that feelings can be expressed without falling apart.",
            "{S} [relaxed|breathed out|softened] visibly, as if something had been released.",
        ],
        rare: &[],
        terse: &["relief", "permission to cry"],
    },
    Theme {
        name: "attention-shifted",
        parent: P_CLIENT,
        description: "The focus moved to the therapist, taking attention or space away from the client.",
        inclusion: "Distraction, losing the thread, the session becoming about the therapist's reaction.",
        exclusion: "The client comforting the therapist (client-caretaking); a relational rupture (rupture-worry).",
        example: "The focus shifted to me for a moment, which I did not like.",
        color: "#B8860B",
        sentences: &[
            "The focus shifted to me for a moment, which I did not like.",
            "It took some attention away from {p} own process.",
            "{S} got distracted and we lost the thread of the session.",
            "For a few minutes the session was about my reaction rather than {p} experience.",
            "It interrupted {p} flow, and it took a while to get back to where we were.",
        ],
        rare: &[],
        terse: &["lost focus", "focus shifted to me"],
    },
    Theme {
        name: "embarrassment",
        parent: P_THERAPIST,
        description: "The therapist felt embarrassed, ashamed, exposed or unprofessional.",
        inclusion: "Embarrassment, shame, feeling exposed, out of control or unprofessional; apologising out of shame.",
        exclusion: "Worry about the relationship or boundaries (rupture-worry); reflecting on one's reaction without shame (self-reflection).",
        example: "I felt embarrassed afterwards.",
        color: "#D04F8E",
        sentences: &[
            "I felt [embarrassed|a bit embarrassed|quite embarrassed] afterwards.",
            "Honestly, I was ashamed and worried I had been unprofessional.",
            "I felt exposed and a bit mortified.",
            "I was embarrassed and kept replaying it in my head [for days|all evening|for a week].",
            "I felt like I had lost control, which was uncomfortable.",
            "There was some shame; I apologised, which in hindsight was unnecessary.",
            "I felt unprofessional, like a beginner again.",
            "My face went hot and I wanted the session to end.",
        ],
        rare: &[],
        terse: &["embarrassment", "felt ashamed", "some shame"],
    },
    Theme {
        name: "felt-human",
        parent: P_THERAPIST,
        description: "The therapist felt more human, authentic or genuine in the role.",
        inclusion: "Authenticity, genuineness, being a real person in the room, accepting one's emotions as part of the work.",
        exclusion: "Shame about the crying (embarrassment); thinking about one's own history (self-reflection).",
        example: "I felt more human and authentic with her.",
        color: "#2E9CB0",
        sentences: &[
            "I felt more human and authentic with {o}.",
            "It reminded me that I am a person in the room, not just a technique.",
            "I felt more [genuine|authentic|present] as a therapist.",
            "It was freeing to be real in the room.",
            "I learned I can be moved and still do good work.",
            "It helped me accept my own emotional side as part of the work.",
            "I felt like myself, not like someone playing the therapist.",
            "It confirmed that I do not have to hide behind a professional mask.",
        ],
        rare: &[],
        terse: &["felt more human", "more authentic"],
    },
    Theme {
        name: "self-reflection",
        parent: P_THERAPIST,
        description: "The crying prompted the therapist to reflect on countertransference or their own history.",
        inclusion: "Reflection on one's own losses, history, countertransference or what was stirred up; taking it to personal therapy.",
        exclusion: "Discussing it with a supervisor or in consultation (supervision).",
        example: "It made me look at my countertransference more closely.",
        color: "#8A7A2E",
        sentences: &[
            "It made me reflect on my own [losses|history|family].",
            "It made me look at my countertransference more closely.",
            "I realised the story touched something from my own [history|childhood|past].",
            "I thought a lot about what in me was being stirred up.",
            "I brought it to my personal therapy.",
            "I noticed how close {p} story was to my own family's.",
            "I spent [the evening|some time|a while] thinking about why this client in particular got to me.",
        ],
        rare: &[],
        terse: &["self-reflection", "reflected on my own grief"],
    },
    Theme {
        name: "supervision",
        parent: P_THERAPIST,
        description: "The therapist discussed the episode in supervision or consultation.",
        inclusion: "Supervision, peer consultation, intervision or talking it through with a supervisor or colleague.",
        exclusion: "Personal therapy or private reflection (self-reflection).",
        example: "I brought it to supervision the following week.",
        color: "#9C6B3C",
        sentences: &[
            "I discussed it in supervision.",
            "I brought it to supervision the following week.",
            "My supervisor helped me make sense of it.",
            "We talked it through in [peer consultation|my consultation group|case consultation].",
            "I processed it with my supervisor, who was very supportive.",
            "I asked [Dr. Müller|my supervisor|my supervisor, Dr. Müller,] whether I had handled it well.",
        ],
        rare: &[],
        terse: &["took it to supervision", "discussed in supervision"],
    },
    Theme {
        name: "nothing-noticeable",
        parent: P_NO_EFFECT,
        description: "No noticeable consequence.",
        inclusion: "Answers saying nothing changed, nothing was noticed, or none.",
        exclusion: "The client not noticing the tears (client-unaware); not knowing (dont-know).",
        example: "Nothing noticeable.",
        color: "#708090",
        sentences: &[],
        rare: &[],
        terse: &[],
    },
    Theme {
        name: "dont-know",
        parent: P_NO_EFFECT,
        description: "The therapist does not know or cannot say what the crying led to.",
        inclusion: "Don't know, not sure, hard to say, can't tell.",
        exclusion: "A definite statement that nothing changed (nothing-noticeable).",
        example: "Don't know",
        color: "#A0845C",
        sentences: &[],
        rare: &[],
        terse: &[],
    },
    Theme {
        name: "client-unaware",
        parent: P_NO_EFFECT,
        description: "The client did not notice the therapist's tears.",
        inclusion: "The client did not see, notice or register the crying.",
        exclusion: "The client noticing but not reacting (nothing-noticeable).",
        example: "I don't think she noticed.",
        color: "#8C7BA0",
        sentences: &[
            "I don't think {s} noticed.",
            "{S} was unaware of it, my eyes only welled up briefly.",
            "It was subtle, and {s} did not seem to see it.",
            "{S} was looking down and did not notice my tears.",
            "As far as I can tell, {s} never registered it.",
        ],
        rare: &[],
        terse: &["client didn't notice", "unaware"],
    },
];

/// Standalone answers for the two "no effect" themes.
const NOTHING_ANSWERS: [&str; 12] = [
    "Nothing noticeable.",
    "Nothing noticeable.",
    "Nothing noticeable.",
    "Nothing.",
    "None.",
    "none",
    "No noticeable change.",
    "Nothing in particular.",
    "Not much, really.",
    "Nothing that I could see.",
    "No effect that I noticed.",
    "It didn't change anything.",
];
const NOTHING_ELABORATIONS: [&str; 4] = [
    " We carried on with the session.",
    " It was a brief moment.",
    " The session just continued.",
    " We never talked about it.",
];
const DONT_KNOW_ANSWERS: [&str; 9] = [
    "Don't know",
    "Don't know",
    "Don't know.",
    "I don't know.",
    "Hard to say.",
    "Not sure.",
    "I really can't say.",
    "Unsure.",
    "Don't know, honestly.",
];
/// Empty answers from respondents who did cry (not offered for coding).
const EMPTY_ANSWERS: [&str; 9] = ["N/A", "N/A", "n/a", "-", "-", "NA", ".", "?", ""];

const OPENERS: [&str; 14] = [
    "This was [a long time|years|many years|only a few months] ago.",
    "It was only a few tears.",
    "It happened while {s} was talking about [a loss|{p} childhood|a death in the family].",
    "The session was about {p} [mother's|father's|partner's|daughter's] illness.",
    "I remember it [well|vividly|clearly].",
    "It was during a session about a [miscarriage|suicide in the family|divorce].",
    "We were [near the end of treatment|in our second year of work|only a few sessions in].",
    "It was a grief session.",
    "My eyes teared up, I didn't sob.",
    "Good question.",
    "Mixed.",
    "Where to start.",
    "It was [a brief|a short|an intense] moment.",
    "{S} had just told me about {p} [son's diagnosis|dog dying|father's funeral].",
];
const QUALIFIERS: [&str; 7] = [
    "At least that is my impression.",
    "I can't be sure, of course.",
    "That was my sense anyway.",
    "Or so it seemed.",
    "This was clearer in hindsight.",
    "I think.",
    "It took [a while|some time|a few sessions] to see that.",
];
const CLOSERS: [&str; 12] = [
    "Overall it was a [positive|good|meaningful] experience.",
    "I would not do anything differently.",
    "I still think about it [sometimes|now and then|often].",
    "It was a meaningful moment.",
    "We never spoke about it directly.",
    "It's been years and I remember it clearly.",
    "Hard to say more than that.",
    "It was ok.",
    "Overall, mixed feelings.",
    "It felt right in the moment.",
    "Crying is not something I plan, obviously.",
    "We finished treatment [a year|some months|two years] later.",
];
const RARE_CLOSERS: [&str; 4] = [
    "🙂",
    "😢",
    "It was a good moment 🙂",
    "Still makes me tear up 😢",
];
const HEDGES: [&str; 6] = [
    "I think ",
    "Honestly, ",
    "Probably ",
    "In hindsight, ",
    "I believe ",
    "Looking back, ",
];

const FEMALE_NAMES: [&str; 5] = ["Zoë", "Chloé", "Mrs. Müller", "Ana", "Renée"];
const MALE_NAMES: [&str; 5] = ["José", "Mr. Müller", "Björn", "Tomás", "David"];
const CLIENT_REFS: [(&str, f64); 5] = [
    ("my client", 42.0),
    ("the client", 26.0),
    ("the patient", 7.0),
    ("my patient", 7.0),
    ("this client", 6.0),
];

/// Memos, each with the coder who writes it (if it matters) and the code of the row it fits
/// (`Some(None)` for a row without a code, `None` for any row with a code).
type MemoTarget = (Option<usize>, Option<Option<usize>>);
const MEMOS: [(&str, MemoTarget); 8] = [
    (
        "Borderline: could also be relief, discuss with ben.",
        (Some(0), Some(Some(CARED_FOR))),
    ),
    (
        "The client's \"thank you\" could be politeness, coded anyway.",
        (Some(1), Some(Some(CARED_FOR))),
    ),
    (
        "Not sure this is caretaking, or just politeness.",
        (None, Some(Some(CARETAKING))),
    ),
    (
        "Two themes in one sentence;\nsplit them if the codebook allows.",
        (None, None),
    ),
    (
        "Check with ana: \"nothing\" vs. \"don't know\".",
        (Some(1), Some(Some(NOTHING))),
    ),
    ("Strong example, use it in the report.", (None, None)),
    (
        "Ambiguous, \"closer\" might only mean physically closer.",
        (None, Some(Some(RAPPORT))),
    ),
    ("Reviewed twice, nothing codable here.", (None, Some(None))),
];

// ---------------------------------------------------------------------------------------------
// Random helpers

fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn logistic_noise(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random_range(1e-9..1.0 - 1e-9);
    (u / (1.0 - u)).ln()
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p: f64 = rng.random::<f64>();
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

fn weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A vector with exact counts per category, shuffled.
fn exact_allocation(rng: &mut ChaCha8Rng, counts: &[usize]) -> Vec<usize> {
    let mut v: Vec<usize> = counts
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| std::iter::repeat_n(i, n))
        .collect();
    assert_eq!(v.len(), N_RESPONDENTS);
    v.shuffle(rng);
    v
}

/// Indices of the `k` largest scores (ties broken by index).
fn top_k(scores: &[(usize, f64)], k: usize) -> BTreeSet<usize> {
    let mut s = scores.to_vec();
    s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.iter().take(k).map(|x| x.0).collect()
}

// ---------------------------------------------------------------------------------------------
// Respondents

struct Persona {
    first_cap: String,
    first_low: String,
    subj: &'static str,
    obj: &'static str,
    poss: &'static str,
}

#[derive(Default)]
struct Answer {
    text: String,
    /// True themes, in the order they appear.
    themes: Vec<usize>,
    /// Code-point span (half-open) of the sentence that expresses each theme, when the answer
    /// has more than that sentence.
    spans: Vec<Option<(usize, usize)>>,
}

struct Respondent {
    id: String,
    age: i64,
    sex: usize,
    years: i64,
    trainee: bool,
    orientation: usize,
    cried: bool,
    cried_4w: bool,
    daily: u32,
    big5: [Option<f64>; 5],
    empathy: Option<f64>,
    tone: Option<usize>,
    answers: [Answer; 3],
}

fn is_empty_answer(text: &str) -> bool {
    matches!(
        text.trim().to_lowercase().as_str(),
        "" | "n/a" | "na" | "-" | "." | "?"
    )
}

fn generate_respondents() -> Vec<Respondent> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    rng.set_stream(1);

    let sexes = exact_allocation(&mut rng, &SEXES.map(|s| s.1));
    let orientations = exact_allocation(&mut rng, &ORIENTATIONS.map(|o| o.1));
    let roles = exact_allocation(&mut rng, &[N_RESPONDENTS - N_TRAINEES, N_TRAINEES]);

    let mut people: Vec<Respondent> = (0..N_RESPONDENTS)
        .map(|i| {
            let trainee = roles[i] == 1;
            let sex = sexes[i];
            let (age, years) = if trainee {
                let age =
                    (22.0 + normal(&mut rng, 0.0, 1.0).abs() * 5.0 + rng.random_range(0.0..3.0))
                        .round()
                        .clamp(22.0, 48.0) as i64;
                let years = (rng.random::<f64>() * 3.6).floor() as i64;
                (age, years.min(age - 22))
            } else {
                let age = normal(&mut rng, 50.0, 12.0).round().clamp(28.0, 85.0) as i64;
                let years = (age as f64 - 28.0 - rng.random_range(0.0..8.0)
                    + normal(&mut rng, 0.0, 3.0))
                .round()
                .clamp(1.0, (age - 26) as f64) as i64;
                (age, years)
            };
            let female = sex == 0;
            let mean_daily = if female { 3.2 } else { 1.4 } * (-0.02 * (age as f64 - 45.0)).exp();
            // Gamma(2, mean/2) mixed Poisson: over-dispersed counts.
            let lambda = mean_daily / 2.0
                * (-(1.0 - rng.random::<f64>()).ln() - (1.0 - rng.random::<f64>()).ln());
            let daily = poisson(&mut rng, lambda);
            let mut item = |mean: f64, sd: f64, lo: f64, hi: f64, digits: i32| {
                let missing = rng.random_bool(0.006);
                let v = normal(&mut rng, mean, sd).clamp(lo, hi);
                let f = 10f64.powi(digits);
                (!missing).then(|| (v * f).round() / f)
            };
            let big5 = [
                item(4.6, 1.1, 1.0, 7.0, 1),
                item(5.5, 0.8, 1.0, 7.0, 1),
                item(5.6, 0.8, 1.0, 7.0, 1),
                item(if female { 3.6 } else { 3.2 }, 1.1, 1.0, 7.0, 1),
                item(5.6, 0.8, 1.0, 7.0, 1),
            ];
            let empathy = item(if female { 3.95 } else { 3.8 }, 0.45, 1.0, 5.0, 2);
            Respondent {
                id: format!("T{:04}", i + 1),
                age,
                sex,
                years,
                trainee,
                orientation: orientations[i],
                cried: false,
                cried_4w: false,
                daily,
                big5,
                empathy,
                tone: None,
                answers: Default::default(),
            }
        })
        .collect();

    // The sample spans ages 22 to 85.
    let youngest = (0..N_RESPONDENTS)
        .filter(|&i| people[i].trainee)
        .min_by_key(|&i| (people[i].age, i))
        .expect("trainees");
    people[youngest].age = 22;
    people[youngest].years = 0;
    let oldest = (0..N_RESPONDENTS)
        .filter(|&i| !people[i].trainee)
        .max_by_key(|&i| (people[i].age, std::cmp::Reverse(i)))
        .expect("psychologists");
    people[oldest].age = 85;

    // Crying in therapy: more experience and psychodynamic orientations more, sex not at all.
    let scores: Vec<(usize, f64)> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let o = match p.orientation {
                O_PSYDYN => 0.7,
                O_ECL_PSYDYN => 0.45,
                O_HUMANISTIC => 0.35,
                O_CBT => -0.2,
                _ => 0.1,
            };
            (i, 0.055 * p.years as f64 + o + logistic_noise(&mut rng))
        })
        .collect();
    // The same rate for every sex: the quota is split over the sexes by largest remainder.
    let quota = N_CRIERS as f64 / N_RESPONDENTS as f64;
    let mut per_sex: Vec<(usize, f64)> = SEXES
        .iter()
        .enumerate()
        .map(|(s, (_, n))| (s, *n as f64 * quota))
        .collect();
    let floors: usize = per_sex.iter().map(|(_, x)| x.floor() as usize).sum();
    per_sex.sort_by(|a, b| (b.1.fract()).total_cmp(&a.1.fract()).then(a.0.cmp(&b.0)));
    let mut criers = BTreeSet::new();
    for (rank, &(s, x)) in per_sex.iter().enumerate() {
        let k = x.floor() as usize + usize::from(rank < N_CRIERS - floors);
        let of_sex: Vec<(usize, f64)> = scores
            .iter()
            .copied()
            .filter(|&(i, _)| people[i].sex == s)
            .collect();
        criers.extend(top_k(&of_sex, k));
    }
    assert_eq!(criers.len(), N_CRIERS);
    for &i in &criers {
        people[i].cried = true;
    }
    let recent: Vec<(usize, f64)> = criers
        .iter()
        .map(|&i| {
            let o = if people[i].orientation == O_PSYDYN {
                0.3
            } else {
                0.0
            };
            (i, o + logistic_noise(&mut rng))
        })
        .collect();
    for i in top_k(&recent, N_CRIED_4W) {
        people[i].cried_4w = true;
    }
    let tone_weights = TONES.map(|t| t.1);
    for p in people.iter_mut().filter(|p| p.cried) {
        p.tone = Some(weighted(&mut rng, &tone_weights));
    }
    people
}

// ---------------------------------------------------------------------------------------------
// Answers

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Whether the sentence starts with an ordinary word that can be lower-cased after a hedge.
fn starts_ordinarily(s: &str) -> bool {
    const ORDINARY: [&str; 14] = [
        "The", "My", "She", "He", "It", "Our", "There", "This", "We", "For", "After", "As", "Her",
        "His",
    ];
    let first = s.split([' ', ',', ';']).next().unwrap_or("");
    ORDINARY.contains(&first)
}

/// Lower-cases the first letter when the sentence starts with an ordinary word (not "I" or a
/// name), so that a hedge can be put in front of it.
fn after_hedge(s: &str) -> String {
    if starts_ordinarily(s) {
        let mut c = s.chars();
        let f = c.next().expect("non-empty");
        f.to_lowercase().chain(c).collect()
    } else {
        s.to_string()
    }
}

/// Picks one alternative of every `[a|b|c]` group.
fn expand(rng: &mut ChaCha8Rng, template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let j = i + rest[i..].find(']').expect("closing bracket");
        let options: Vec<&str> = rest[i + 1..j].split('|').collect();
        out.push_str(options.choose(rng).expect("options"));
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

fn render(rng: &mut ChaCha8Rng, template: &str, persona: &Persona, mentioned: &mut bool) -> String {
    let expanded = expand(rng, template);
    let mut out = String::new();
    let mut rest = expanded.as_str();
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = i + rest[i..].find('}').expect("closing brace");
        let key = &rest[i + 1..j];
        let word = if *mentioned {
            match key {
                "S" => capitalise(persona.subj),
                "s" => persona.subj.to_string(),
                "o" => persona.obj.to_string(),
                "p" => persona.poss.to_string(),
                "P" => capitalise(persona.poss),
                _ => panic!("unknown placeholder {key}"),
            }
        } else {
            match key {
                "S" => persona.first_cap.clone(),
                "s" | "o" => persona.first_low.clone(),
                "p" => format!("{}'s", persona.first_low),
                "P" => format!("{}'s", persona.first_cap),
                _ => panic!("unknown placeholder {key}"),
            }
        };
        *mentioned = true;
        out.push_str(&word);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

fn make_persona(rng: &mut ChaCha8Rng) -> Persona {
    let female = rng.random_bool(0.6);
    let (subj, obj, poss) = if female {
        ("she", "her", "her")
    } else {
        ("he", "him", "his")
    };
    let reference = if rng.random_bool(0.08) {
        let names: &[&str] = if female { &FEMALE_NAMES } else { &MALE_NAMES };
        names.choose(rng).expect("names").to_string()
    } else {
        CLIENT_REFS[weighted(rng, &CLIENT_REFS.map(|c| c.1))]
            .0
            .to_string()
    };
    Persona {
        first_cap: capitalise(&reference),
        first_low: reference,
        subj,
        obj,
        poss,
    }
}

/// Theme weights for a question, given the respondent's variables.
fn theme_weights(q: usize, p: &Respondent) -> [f64; 15] {
    let mut w = [0.0; 15];
    let psydyn = matches!(p.orientation, O_PSYDYN | O_ECL_PSYDYN);
    let novice = p.trainee || p.years < 5;
    let veteran = p.years >= 20;
    let tone = p.tone.expect("criers have a tone");
    match q {
        0 => {
            w[CARED_FOR] = 30.0;
            w[RELIEF] = 12.0;
            w[CRIED_TOO] = 10.0;
            w[SESSION_DEEP] = 11.0;
            w[CARETAKING] = 9.0;
            w[UNAWARE] = 6.0;
            w[ATTENTION] = 6.0;
            w[RAPPORT] = 6.0;
        }
        1 => {
            w[RAPPORT] = 36.0;
            w[RUPTURE] = 9.0;
            w[SESSION_DEEP] = 9.0;
            w[CARED_FOR] = 8.0;
            w[CARETAKING] = 8.0;
            w[ATTENTION] = 4.0;
            w[UNAWARE] = 3.0;
        }
        _ => {
            w[HUMAN] = 20.0;
            w[EMBARRASSMENT] = 15.0;
            w[REFLECTION] = 13.0;
            w[SUPERVISION] = 10.0;
            w[RAPPORT] = 5.0;
            w[RUPTURE] = 4.0;
        }
    }
    if psydyn {
        w[RAPPORT] *= 1.6;
        w[SESSION_DEEP] *= 1.6;
        w[REFLECTION] *= 1.8;
    }
    if p.orientation == O_CBT {
        w[SESSION_DEEP] *= 0.7;
        w[REFLECTION] *= 0.7;
    }
    if novice {
        w[EMBARRASSMENT] *= 2.2;
        w[CARETAKING] *= 1.8;
        w[ATTENTION] *= 1.5;
        w[RUPTURE] *= 1.5;
    }
    if p.trainee {
        w[SUPERVISION] *= 2.5;
    }
    if veteran {
        w[HUMAN] *= 1.5;
        w[RAPPORT] *= 1.3;
        w[EMBARRASSMENT] *= 0.5;
        w[SUPERVISION] *= 0.4;
    }
    match tone {
        T_TENSE => {
            w[RUPTURE] *= 2.5;
            w[CARETAKING] *= 1.5;
            w[ATTENTION] *= 1.5;
        }
        T_SAD | T_TOUCHING => {
            w[CRIED_TOO] *= 1.5;
            w[CARED_FOR] *= 1.2;
        }
        _ => {}
    }
    w
}

/// One piece of an answer and the theme it expresses, if any.
struct Part {
    text: String,
    theme: Option<usize>,
}

fn generate_answer(rng: &mut ChaCha8Rng, q: usize, p: &Respondent, persona: &Persona) -> Answer {
    let roll: f64 = rng.random();
    let cbt = p.orientation == O_CBT;
    let psydyn = matches!(p.orientation, O_PSYDYN | O_ECL_PSYDYN);
    let p_empty = 0.035;
    let p_nothing = [0.10, 0.12, 0.08][q]
        * if cbt {
            1.5
        } else if psydyn {
            0.6
        } else {
            1.0
        };
    let p_dont_know = [0.05, 0.04, 0.02][q];
    if roll < p_empty {
        let text = EMPTY_ANSWERS.choose(rng).expect("list").to_string();
        return Answer {
            text,
            ..Default::default()
        };
    }
    if roll < p_empty + p_nothing {
        let mut text = NOTHING_ANSWERS.choose(rng).expect("list").to_string();
        if rng.random_bool(0.2) {
            text.push_str(NOTHING_ELABORATIONS.choose(rng).expect("list"));
        }
        return Answer {
            text,
            themes: vec![NOTHING],
            spans: vec![None],
        };
    }
    if roll < p_empty + p_nothing + p_dont_know {
        let text = DONT_KNOW_ANSWERS.choose(rng).expect("list").to_string();
        return Answer {
            text,
            themes: vec![DONT_KNOW],
            spans: vec![None],
        };
    }

    // A substantive answer: one to three themes.
    let mut weights = theme_weights(q, p);
    let k = [1, 1, 1, 1, 1, 1, 2, 2, 2, 3][rng.random_range(0..10)];
    let mut themes = Vec::new();
    for _ in 0..k {
        let t = weighted(rng, &weights);
        weights[t] = 0.0;
        themes.push(t);
        if t == UNAWARE {
            // A client who did not notice anything has no other consequences.
            break;
        }
    }
    if themes.contains(&UNAWARE) {
        themes = vec![UNAWARE];
    }

    let mut mentioned = false;
    let mut parts: Vec<Part> = Vec::new();
    if rng.random_bool(0.08) {
        // Telegraphic answer: "more trust, felt understood".
        for (i, &t) in themes.iter().enumerate() {
            let frag = THEMES[t].terse.choose(rng).expect("terse");
            let text = if i == 0 && rng.random_bool(0.5) {
                capitalise(frag)
            } else {
                frag.to_string()
            };
            parts.push(Part {
                text,
                theme: Some(t),
            });
        }
        let sep = if rng.random_bool(0.6) { ", " } else { "; " };
        let mut answer = assemble(&parts, &[sep]);
        if rng.random_bool(0.3) {
            answer.text.push('.');
        }
        return answer;
    }

    let with_opener = themes.len() < 3 && rng.random_bool(0.3);
    if with_opener {
        let o = OPENERS.choose(rng).expect("openers");
        parts.push(Part {
            text: render(rng, o, persona, &mut mentioned),
            theme: None,
        });
    }
    for &t in &themes {
        let theme = &THEMES[t];
        let template = if !theme.rare.is_empty() && rng.random_bool(0.04) {
            theme.rare.choose(rng)
        } else {
            theme.sentences.choose(rng)
        }
        .expect("sentences");
        let mut sentence = render(rng, template, persona, &mut mentioned);
        // Hedge only sentences that start with an ordinary word or a name ("I think my client
        // ...", "Honestly, José ..."), and not those that already hedge.
        let hedgeable = starts_ordinarily(&sentence)
            || sentence.starts_with(&persona.first_cap) && persona.first_cap == persona.first_low;
        let hedgeable =
            hedgeable && !sentence.contains("I think") && !sentence.contains("I believe");
        if hedgeable && rng.random_bool(0.15) {
            let hedge = HEDGES.choose(rng).expect("hedges");
            sentence = format!("{hedge}{}", after_hedge(&sentence));
        }
        parts.push(Part {
            text: sentence,
            theme: Some(t),
        });
        if parts.len() < 4 && rng.random_bool(0.1) {
            let qualifier = *QUALIFIERS.choose(rng).expect("qualifiers");
            parts.push(Part {
                text: expand(rng, qualifier),
                theme: None,
            });
        }
    }
    if parts.len() < 4 {
        let closer = if rng.random_bool(0.015) {
            Some(*RARE_CLOSERS.choose(rng).expect("closers"))
        } else if rng.random_bool(0.22) {
            Some(*CLOSERS.choose(rng).expect("closers"))
        } else {
            None
        };
        if let Some(c) = closer {
            parts.push(Part {
                text: render(rng, c, persona, &mut mentioned),
                theme: None,
            });
        }
    }
    let mut seps = vec![" "; parts.len().saturating_sub(1)];
    if !seps.is_empty() && rng.random_bool(0.012) {
        let i = rng.random_range(0..seps.len());
        seps[i] = if rng.random_bool(0.3) { "\n\n" } else { "\n" };
    }
    assemble(&parts, &seps)
}

/// Joins parts with the separators and records the code-point span of every theme part.
fn assemble(parts: &[Part], seps: &[&str]) -> Answer {
    let mut text = String::new();
    let mut themes = Vec::new();
    let mut spans = Vec::new();
    let mut pos = 0usize;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            let sep = seps[(i - 1).min(seps.len() - 1)];
            text.push_str(sep);
            pos += sep.chars().count();
        }
        let len = part.text.chars().count();
        if let Some(t) = part.theme {
            themes.push(t);
            spans.push((parts.len() > 1).then_some((pos, pos + len)));
        }
        text.push_str(&part.text);
        pos += len;
    }
    debug_assert_eq!(pos, text.chars().count());
    Answer {
        text,
        themes,
        spans,
    }
}

fn generate_answers(people: &mut [Respondent]) {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    rng.set_stream(2);
    for p in people.iter_mut().filter(|p| p.cried) {
        let persona = make_persona(&mut rng);
        let answers = [0, 1, 2].map(|q| generate_answer(&mut rng, q, p, &persona));
        p.answers = answers;
    }
}

// ---------------------------------------------------------------------------------------------
// Codings

struct Coding {
    respondent: usize,
    question: usize,
    coder: usize,
    /// Theme index; `None` for "reviewed, nothing applies".
    code: Option<usize>,
    span: Option<(usize, usize)>,
    memo: String,
}

/// The first `CODED_ANSWERS` offered answers in survey order, as (respondent, question).
fn offered_answers(people: &[Respondent]) -> Vec<(usize, usize)> {
    people
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            (0..3)
                .filter(move |&q| !is_empty_answer(&p.answers[q].text))
                .map(move |q| (i, q))
        })
        .collect()
}

fn generate_codings(people: &[Respondent]) -> Vec<Coding> {
    let coded: Vec<(usize, usize)> = offered_answers(people)
        .into_iter()
        .take(CODED_ANSWERS)
        .collect();
    let mut per_coder: Vec<Vec<Vec<Coding>>> = Vec::new();
    for (c, _) in CODERS.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        rng.set_stream(CODER_STREAM + c as u64);
        let mut rows_per_answer = Vec::new();
        for &(i, q) in &coded {
            let p = &people[i];
            let answer = &p.answers[q];
            let standalone = answer
                .themes
                .iter()
                .all(|&t| t == NOTHING || t == DONT_KNOW);
            let mut rows = Vec::new();
            for (&t, &span) in answer.themes.iter().zip(&answer.spans) {
                let miss = if standalone { 0.10 } else { P_MISS };
                if rng.random_bool(miss) {
                    continue;
                }
                let span = span.filter(|_| rng.random_bool(P_SEGMENT));
                rows.push(Coding {
                    respondent: i,
                    question: q,
                    coder: c,
                    code: Some(t),
                    span,
                    memo: String::new(),
                });
            }
            if rng.random_bool(P_SPURIOUS) {
                let mut w = if standalone {
                    let mut w = [0.0; 15];
                    w[NOTHING] = 1.0;
                    w[DONT_KNOW] = 1.0;
                    w
                } else {
                    theme_weights(q, p)
                };
                for &t in &answer.themes {
                    w[t] = 0.0;
                }
                if w.iter().sum::<f64>() > 0.0 {
                    let t = weighted(&mut rng, &w);
                    rows.push(Coding {
                        respondent: i,
                        question: q,
                        coder: c,
                        code: Some(t),
                        span: None,
                        memo: String::new(),
                    });
                }
            }
            if rows.is_empty() {
                rows.push(Coding {
                    respondent: i,
                    question: q,
                    coder: c,
                    code: None,
                    span: None,
                    memo: String::new(),
                });
            }
            rows.sort_by_key(|r| (r.code, r.span));
            rows_per_answer.push(rows);
        }
        per_coder.push(rows_per_answer);
    }

    // Interleave: answer by answer, coder by coder.
    let mut out = Vec::new();
    for a in 0..coded.len() {
        for rows in per_coder.iter_mut() {
            out.append(&mut rows[a]);
        }
    }

    // A few memos, each on a random row that fits it.
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    rng.set_stream(20);
    for (memo, (coder, code)) in MEMOS {
        let fits: Vec<usize> = (0..out.len())
            .filter(|&r| {
                let row = &out[r];
                row.memo.is_empty()
                    && coder.is_none_or(|c| c == row.coder)
                    && match code {
                        Some(code) => row.code == code,
                        None => row.code.is_some(),
                    }
            })
            .collect();
        if let Some(&r) = fits.choose(&mut rng) {
            out[r].memo = memo.to_string();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Writing

fn writer(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    Ok(csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(path)?)
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_default()
}

fn write_survey(path: &Path, people: &[Respondent]) -> Result<()> {
    let mut w = writer(path)?;
    w.write_record(SURVEY_HEADER)?;
    for p in people {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut row = vec![
            p.id.clone(),
            p.age.to_string(),
            SEXES[p.sex].0.to_string(),
            p.years.to_string(),
            if p.trainee { "trainee" } else { "psychologist" }.to_string(),
            ORIENTATIONS[p.orientation].0.to_string(),
            yes_no(p.cried).to_string(),
            if p.cried { yes_no(p.cried_4w) } else { "" }.to_string(),
            p.daily.to_string(),
        ];
        row.extend(p.big5.iter().map(|v| fmt_opt(*v, 1)));
        row.push(fmt_opt(p.empathy, 2));
        row.push(p.tone.map(|t| TONES[t].0).unwrap_or_default().to_string());
        row.extend(p.answers.iter().map(|a| a.text.clone()));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// Theme indices of the nine most frequent themes (over all survey answers), most frequent first.
fn shortcut_themes(people: &[Respondent]) -> Vec<usize> {
    let mut counts = [0usize; 15];
    for p in people {
        for a in &p.answers {
            for &t in &a.themes {
                counts[t] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..THEMES.len()).collect();
    order.sort_by_key(|&t| (std::cmp::Reverse(counts[t]), t));
    order.truncate(9);
    order
}

fn write_codebook(path: &Path, shortcuts: &[usize]) -> Result<()> {
    let mut w = writer(path)?;
    w.write_record(CODEBOOK_HEADER)?;
    for p in &PARENTS {
        w.write_record([
            p.name,
            "",
            p.description,
            p.inclusion,
            p.exclusion,
            "",
            p.color,
            "",
        ])?;
    }
    for parent in 0..PARENTS.len() {
        for (t, theme) in THEMES
            .iter()
            .enumerate()
            .filter(|(_, th)| th.parent == parent)
        {
            let shortcut = shortcuts
                .iter()
                .position(|&s| s == t)
                .map(|i| (i + 1).to_string())
                .unwrap_or_default();
            w.write_record([
                theme.name,
                PARENTS[theme.parent].name,
                theme.description,
                theme.inclusion,
                theme.exclusion,
                theme.example,
                theme.color,
                &shortcut,
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

fn write_codings(path: &Path, people: &[Respondent], codings: &[Coding]) -> Result<()> {
    let mut w = writer(path)?;
    w.write_record(CODINGS_HEADER)?;
    for c in codings {
        let (start, end) = c
            .span
            .map(|(s, e)| (s.to_string(), e.to_string()))
            .unwrap_or_default();
        w.write_record([
            people[c.respondent].id.as_str(),
            QUESTIONS[c.question],
            CODERS[c.coder],
            c.code.map(|t| THEMES[t].name).unwrap_or(""),
            &start,
            &end,
            &c.memo,
        ])?;
    }
    w.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Verification: read the files back and check them.

fn read_all(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let bytes = std::fs::read(path)?;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(format!("{}: has a BOM", path.display()).into());
    }
    if bytes.contains(&b'\r') {
        return Err(format!("{}: contains \\r", path.display()).into());
    }
    let mut r = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let header = r.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec?.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if cond { Ok(()) } else { Err(msg().into()) }
}

fn verify(dir: &Path, people: &[Respondent], codings: &[Coding]) -> Result<()> {
    // Survey.
    let (header, rows) = read_all(&dir.join("tcit_survey.csv"))?;
    check(header == SURVEY_HEADER, || {
        format!("survey header {header:?}")
    })?;
    check(rows.len() == N_RESPONDENTS, || "survey row count".into())?;
    let mut texts: BTreeMap<(String, String), String> = BTreeMap::new();
    for (row, p) in rows.iter().zip(people) {
        check(row[0] == p.id, || format!("id {}", row[0]))?;
        let cried = row[6] == "yes";
        if !cried {
            check(row[7].is_empty() && row[15].is_empty(), || {
                format!("{}: never-cried with 4w/tone", p.id)
            })?;
            check(row[16..19].iter().all(String::is_empty), || {
                format!("{}: never-cried with answers", p.id)
            })?;
        }
        for (q, name) in QUESTIONS.iter().enumerate() {
            check(row[16 + q] == p.answers[q].text, || {
                format!("{} {name}: text differs", p.id)
            })?;
            texts.insert((p.id.clone(), name.to_string()), row[16 + q].clone());
        }
    }

    // Codebook.
    let (header, rows) = read_all(&dir.join("tcit_codebook.csv"))?;
    check(header == CODEBOOK_HEADER, || {
        format!("codebook header {header:?}")
    })?;
    let mut seen = BTreeSet::new();
    let mut shortcuts = BTreeSet::new();
    let mut colors = BTreeSet::new();
    let parents: BTreeSet<&str> = rows
        .iter()
        .filter(|r| !r[1].is_empty())
        .map(|r| r[1].as_str())
        .collect();
    for row in &rows {
        check(row.len() == 8, || "codebook width".into())?;
        check(seen.insert(row[0].to_lowercase()), || {
            format!("duplicate code {}", row[0])
        })?;
        if !row[1].is_empty() {
            check(seen.contains(&row[1].to_lowercase()), || {
                format!("parent {} after child", row[1])
            })?;
        }
        let c = &row[6];
        check(
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit()),
            || format!("colour {c}"),
        )?;
        check(colors.insert(c.clone()), || format!("duplicate colour {c}"))?;
        if !row[7].is_empty() {
            check(!parents.contains(row[0].as_str()), || {
                "parent with shortcut".into()
            })?;
            check(shortcuts.insert(row[7].clone()), || {
                format!("duplicate shortcut {}", row[7])
            })?;
        }
    }
    check(shortcuts.len() == 9, || "nine shortcuts".into())?;
    let themes: BTreeSet<&str> = rows
        .iter()
        .map(|r| r[0].as_str())
        .filter(|n| !parents.contains(n))
        .collect();

    // Codings.
    let (header, rows) = read_all(&dir.join("tcit_codings.csv"))?;
    check(header == CODINGS_HEADER, || {
        format!("codings header {header:?}")
    })?;
    check(rows.len() == codings.len(), || "codings row count".into())?;
    let mut unique = BTreeSet::new();
    for (n, (row, c)) in rows.iter().zip(codings).enumerate() {
        let line = n + 2;
        check(unique.insert(row[..6].to_vec()), || {
            format!("codings line {line}: duplicate")
        })?;
        let text = texts
            .get(&(row[0].clone(), row[1].clone()))
            .ok_or_else(|| format!("codings line {line}: unknown answer"))?;
        check(!is_empty_answer(text), || {
            format!("codings line {line}: empty answer")
        })?;
        check(CODERS.contains(&row[2].as_str()), || {
            format!("codings line {line}: coder")
        })?;
        check(
            row[3].is_empty() || themes.contains(row[3].as_str()),
            || format!("codings line {line}: code {}", row[3]),
        )?;
        match (row[4].as_str(), row[5].as_str()) {
            ("", "") => {}
            (s, e) => {
                let (s, e): (usize, usize) = (s.parse()?, e.parse()?);
                let chars: Vec<char> = text.chars().collect();
                check(s < e && e <= chars.len(), || {
                    format!("codings line {line}: offsets")
                })?;
                let segment: String = chars[s..e].iter().collect();
                let answer = &people[c.respondent].answers[c.question];
                let t = c.code.expect("segments have a code");
                let k = answer
                    .themes
                    .iter()
                    .position(|&x| x == t)
                    .expect("true theme");
                let (ps, pe) = answer.spans[k].expect("span");
                let intended: String = chars[ps..pe].iter().collect();
                check(
                    segment == intended && segment.trim() == segment && !segment.is_empty(),
                    || format!("codings line {line}: segment {segment:?}"),
                )?;
            }
        }
    }
    Ok(())
}

fn cohen_kappa(a: &[bool], b: &[bool]) -> Option<f64> {
    let n = a.len() as f64;
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / n;
    let pa = a.iter().filter(|x| **x).count() as f64 / n;
    let pb = b.iter().filter(|x| **x).count() as f64 / n;
    let pe = pa * pb + (1.0 - pa) * (1.0 - pb);
    (pe < 1.0).then(|| (agree - pe) / (1.0 - pe))
}

fn summary(people: &[Respondent], codings: &[Coding], shortcuts: &[usize]) {
    let criers = people.iter().filter(|p| p.cried).count();
    eprintln!("respondents {}, criers {criers}", people.len());
    for (q, name) in QUESTIONS.iter().enumerate() {
        let offered = people
            .iter()
            .filter(|p| !is_empty_answer(&p.answers[q].text))
            .count();
        eprintln!("  {name}: {offered} answers offered");
    }
    let segments = codings.iter().filter(|c| c.span.is_some()).count();
    let empty = codings.iter().filter(|c| c.code.is_none()).count();
    eprintln!(
        "codings rows {}, segments {segments} ({:.1}%), empty-code rows {empty}",
        codings.len(),
        100.0 * segments as f64 / codings.len() as f64
    );
    // Signal for the analysis: share of criers with a theme in any answer, by group.
    let share = |t: usize, group: &dyn Fn(&Respondent) -> bool| {
        let members: Vec<&Respondent> = people.iter().filter(|p| p.cried && group(p)).collect();
        let with = members
            .iter()
            .filter(|p| p.answers.iter().any(|a| a.themes.contains(&t)))
            .count();
        format!(
            "{:.0}% of {}",
            100.0 * with as f64 / members.len() as f64,
            members.len()
        )
    };
    let psydyn = |p: &Respondent| matches!(p.orientation, O_PSYDYN | O_ECL_PSYDYN);
    let cbt = |p: &Respondent| p.orientation == O_CBT;
    let novice = |p: &Respondent| p.years < 5;
    let seasoned = |p: &Respondent| p.years >= 5;
    eprintln!(
        "true themes: rapport-deepened psychodynamic {} vs CBT {}; embarrassment <5 years {} vs 5+ {}",
        share(RAPPORT, &psydyn),
        share(RAPPORT, &cbt),
        share(EMBARRASSMENT, &novice),
        share(EMBARRASSMENT, &seasoned),
    );
    let shortcut_names: Vec<&str> = shortcuts.iter().map(|&t| THEMES[t].name).collect();
    eprintln!("shortcuts 1-9: {}", shortcut_names.join(", "));
    // Per-code Cohen's kappa between the two coders over the coded answers.
    let answers: BTreeSet<(usize, usize)> =
        codings.iter().map(|c| (c.respondent, c.question)).collect();
    let applied: BTreeSet<(usize, usize, usize, usize)> = codings
        .iter()
        .filter_map(|c| c.code.map(|t| (c.respondent, c.question, c.coder, t)))
        .collect();
    for (t, theme) in THEMES.iter().enumerate() {
        let a: Vec<bool> = answers
            .iter()
            .map(|&(i, q)| applied.contains(&(i, q, 0, t)))
            .collect();
        let b: Vec<bool> = answers
            .iter()
            .map(|&(i, q)| applied.contains(&(i, q, 1, t)))
            .collect();
        let n_a = a.iter().filter(|x| **x).count();
        let n_b = b.iter().filter(|x| **x).count();
        let k = cohen_kappa(&a, &b).map_or("undefined".to_string(), |k| format!("{k:.3}"));
        eprintln!("  kappa {:<20} ana {n_a:>3} ben {n_b:>3}  {k}", theme.name);
    }
}

fn main() -> Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")));
    std::fs::create_dir_all(&dir)?;

    let mut people = generate_respondents();
    generate_answers(&mut people);
    let codings = generate_codings(&people);
    let shortcuts = shortcut_themes(&people);

    write_survey(&dir.join("tcit_survey.csv"), &people)?;
    write_codebook(&dir.join("tcit_codebook.csv"), &shortcuts)?;
    write_codings(&dir.join("tcit_codings.csv"), &people, &codings)?;
    verify(&dir, &people, &codings)?;
    summary(&people, &codings, &shortcuts);
    eprintln!("wrote {}", dir.display());
    Ok(())
}
