"""What the offline understander knows of English: intents, their words and phrases, and weights.

`understand` holds the logic (normalise, match names, score, decide, ask); this module holds the
data it scores with, so that teaching it a word is an edit here, never in the parser. Keywords
and phrases are grouped by weight (`{1.5: "why explain"}`); the word lists after them (health,
praise and blame, negation, question starts, stop words) and the evidence that entities add are
read by the parser's rules, each described where it is defined.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What a message asks for; `UNCLEAR` when nothing scored enough."""

    STATUS = "status"
    FEELING = "feeling"
    CHECK = "check"
    RUN_RUNBOOK = "run_runbook"
    EXPLAIN = "explain"
    RECALL = "recall"
    KNOWLEDGE = "knowledge"
    LEARN_SKILL = "learn_skill"
    FEEDBACK = "feedback"
    APPROVE = "approve"
    DENY = "deny"
    HANDOVER = "handover"
    HELP = "help"
    SMALLTALK = "smalltalk"
    UNCLEAR = "unclear"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _weighted(table: dict[float, str]) -> dict[str, float]:
    """{1.5: "why explain"} -> {"why": 1.5, "explain": 1.5}: keywords grouped by weight."""
    return {word: weight for weight, words in table.items() for word in words.split()}


def _phrases(table: dict[float, str]) -> dict[tuple[str, ...], float]:
    """{1.5: "good job | well done"} -> {("good", "job"): 1.5, ("well", "done"): 1.5}."""
    return {
        tuple(phrase.split()): weight
        for weight, phrases in table.items()
        for phrase in phrases.split("|")
    }


KEYWORDS: dict[Intent, dict[str, float]] = {
    Intent.STATUS: _weighted(
        {1.2: "status", 1.0: "state", 0.8: "report busy pending", 0.5: "doing"}
    ),
    Intent.FEELING: _weighted(
        {
            1.2: "feel feeling feelings mood emotion emotions",
            1.0: "emotional",
            0.8: "happy sad stressed worried nervous anxious afraid angry upset scared",
        }
    ),
    Intent.CHECK: _weighted(
        {
            1.2: "check healthcheck",
            1.0: "ping probe verify health inspect",
            0.8: "test",
            0.6: "monitor",
            0.5: "look",
        }
    ),
    Intent.RUN_RUNBOOK: _weighted(
        {
            1.2: "run execute",
            1.0: "exec trigger launch invoke",
            0.8: "perform runbook",
            0.6: "apply fire",
        }
    ),
    Intent.EXPLAIN: _weighted(
        {
            1.5: "why explain explanation",
            1.2: "reason reasons reasoning justify",
            1.0: "decision decisions",
            0.8: "decide decided chose",
            0.6: "choose",
        }
    ),
    Intent.RECALL: _weighted(
        {
            1.5: "remember recall",
            1.2: "memory memories happened remind",
            1.0: "history",
            0.8: "episode episodes forget",
            0.6: "past earlier",
            0.5: "before incident incidents outage outages",
        }
    ),
    Intent.KNOWLEDGE: _weighted(
        {
            1.5: "know knowledge",
            1.2: "facts fact learned learnt",
            0.8: "baseline",
            0.6: "normal usually typical",
        }
    ),
    Intent.LEARN_SKILL: _weighted(
        {
            1.5: "learn practise practice practising practicing",
            1.2: "train",
            1.0: "training study drill rehearse",
            0.8: "improve",
            0.6: "skill skills",
        }
    ),
    Intent.FEEDBACK: _weighted(
        {
            1.2: "bravo terrible awful horrible",
            1.0: "excellent perfect awesome brilliant superb bad wrong mistake useless stupid",
            0.9: "good great",
            0.8: "nice poor",
        }
    ),
    Intent.APPROVE: _weighted(
        {
            1.5: "approve",
            1.2: "approved accept allow authorise authorize",
            1.0: "confirm grant",
            0.5: "approval",
        }
    ),
    Intent.DENY: _weighted(
        {
            1.5: "deny reject",
            1.2: "denied refuse decline veto forbid disallow",
            1.0: "cancel",
            0.8: "block",
        }
    ),
    Intent.HANDOVER: _weighted(
        {
            1.5: "handover delegate",
            1.2: "hand reassign",
            1.0: "transfer escalate",
            0.8: "assign pass",
        }
    ),
    Intent.HELP: _weighted(
        {1.5: "help", 1.2: "commands", 1.0: "usage", 0.8: "manual", 0.6: "options"}
    ),
    Intent.SMALLTALK: _weighted(
        {
            0.9: "hi hello hiya howdy thanks thank thx bye goodbye",
            0.8: "hey cheers",
            0.6: "yo morning evening",
            0.5: "cool lol",
            0.45: "ok okay",
        }
    ),
}

PHRASES: dict[Intent, dict[tuple[str, ...], float]] = {
    Intent.STATUS: _phrases({1.0: "up to"}),
    Intent.CHECK: _phrases({1.5: "up with"}),
    Intent.FEELING: _phrases({1.2: "how are you | how r u | are you ok"}),
    Intent.EXPLAIN: _phrases({1.5: "how come"}),
    Intent.RECALL: _phrases({1.0: "last time", 0.9: "did you"}),
    Intent.KNOWLEDGE: _phrases({1.2: "tell me about"}),
    Intent.LEARN_SKILL: _phrases({1.2: "get better"}),
    Intent.FEEDBACK: _phrases(
        {
            1.5: "good job | well done | nice work | great work | nice job | great job | bad job"
            " | bad call | thumbs up | thumbs down"
        }
    ),
    Intent.APPROVE: _phrases({1.2: "go ahead"}),
    Intent.HANDOVER: _phrases(
        {1.5: "hand over", 1.2: "take over | pass it on", 1.0: "take it | take this"}
    ),
    Intent.HELP: _phrases(
        {
            1.5: "what can you do | what can i ask | what can i say",
            1.2: "how does this work | how do i use",
        }
    ),
    Intent.SMALLTALK: _phrases(
        {
            1.5: "good morning | good evening | good afternoon | good night",
            1.2: "hows it going",
            1.0: "thank you | see you | whats up",
        }
    ),
}

#: With a target or URL in the message these words ask after its health ("is the shop ok?").
HEALTH_WORDS = _words(
    "ok okay up down alive healthy fine working reachable responding online offline slow "
    "broken dead good status state doing"
)
HEALTH_WEIGHT = 1.2
#: With a teammate named these words ask for a hand-over ("ask cleo to ..."); said right
#: before the name they count `ADDRESS_BONUS` more, as "ask ben to check shop" is a hand-over
#: while "ben, check shop" is not.
AGENT_CUES = _weighted({1.0: "ask", 0.8: "handle", 0.6: "let tell give send"})
ADDRESS_BONUS = 1.5
GOOD_WORDS = _words("good great nice excellent perfect awesome bravo brilliant superb well up")
BAD_WORDS = _words("bad wrong terrible awful poor mistake useless stupid horrible down")
NEGATORS = _words("not no never isnt wasnt dont didnt nothing")
#: Said just before an action word or a runbook's name, these veto the action: "don't run
#: restart-api" must never run it. "don't approve" counts as deny.
VETOES = NEGATORS | _words("stop halt abort without")
QUESTION_STARTS = _words("why when did have has what whats how hows where which who was were")
ACTIONS = frozenset(
    {Intent.RUN_RUNBOOK, Intent.APPROVE, Intent.DENY, Intent.HANDOVER, Intent.LEARN_SKILL}
)
QUESTION_DAMPING = 0.4
TOPIC_MARKERS = _words("about regarding concerning re")
STOPWORDS = _words(
    "the a an to on for of at in by with from into onto please pls plz me my your you i it its "
    "this that these those is are was were be been do does did can could would will should "
    "and or so some any there now just again all what whats how hows when where which who "
    "about regarding concerning re last latest recent previous us we our they them have has "
    "had up over yet more tell"
)
# Evidence that entities add to an intent.
URL_BONUS = 1.0
TARGET_BONUS = 0.6
RUNBOOK_BONUS = 0.9
RUNBOOK_HINT_BONUS = 0.5
SKILL_BONUS = 0.3
AGENT_BONUS = 0.3
THUMB_BONUS = 1.5
# Ties go to the earlier intent: read-only ones first, running a runbook last.
PRIORITY = [
    Intent.FEELING,
    Intent.STATUS,
    Intent.CHECK,
    Intent.EXPLAIN,
    Intent.RECALL,
    Intent.KNOWLEDGE,
    Intent.HELP,
    Intent.SMALLTALK,
    Intent.FEEDBACK,
    Intent.LEARN_SKILL,
    Intent.HANDOVER,
    Intent.DENY,
    Intent.APPROVE,
    Intent.RUN_RUNBOOK,
]
