"""An agent's emotional state over time: the pure functions of `agent.mind.emotions` plus a clock.

Decay is applied lazily, whenever the state is read or changed, from the time of the last
change; so a state loaded after a restart has decayed for exactly the time the agent was off.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable

from agent.mind import drift as dr
from agent.mind import emotions as em
from agent.mind.mood import Mood
from agent.mind.personality import Personality, TraitEffects

#: Samples kept for the UI's sparklines.
HISTORY = 120
#: Shortest gap worth decaying over (seconds); see `Mind.emotions`.
DECAY_STEP_S = 0.01


class Mind:
    def __init__(
        self,
        personality: Personality,
        clock: Callable[[], float],
        emotions: dict[str, float] | None = None,
        emotions_at: float | None = None,
        drift: dr.Drift | None = None,
        *,
        adaptive: bool = True,
    ) -> None:
        #: The traits the agent was created with; `personality` is base + `drift`.
        self.base = personality
        self.drift = drift or dr.Drift()
        #: Whether experience moves the traits (`[agents] adapt_personality` in the config).
        self.adaptive = adaptive
        #: The drift changed since it was last written.
        self.drift_dirty = False
        self._become(dr.current(personality, self.drift))
        self._clock = clock
        self._emotions = em.from_dict(emotions or {}, self.rest)
        self._at = emotions_at if emotions_at else clock()
        self.history: deque[tuple[float, em.Vector]] = deque(maxlen=HISTORY)
        self.history.append((self._at, self._emotions))

    def _become(self, personality: Personality) -> None:
        """Take on `personality`: what behaviour reads (effects, the emotions' resting point)."""
        self.personality = personality
        self.effects = TraitEffects.of(personality)
        self.rest = em.baseline(personality)

    def adapt(self, experience: dr.Experience, detail: str = "") -> dr.DriftReason | None:
        """Let an experience move the traits a little (see `agent.mind.drift`); the reason,
        or None when adaptation is off or every trait it moves is at its bound."""
        if not self.adaptive:
            return None
        moved = dr.apply(self.base, self.drift, experience, self._clock(), detail)
        if moved is self.drift:
            return None
        self.drift = moved
        self.drift_dirty = True
        self._become(dr.current(self.base, moved))
        return moved.reasons[0]

    def reset_drift(self) -> None:
        """Back to the base traits: experience so far no longer counts."""
        self.drift = dr.Drift()
        self.drift_dirty = True
        self._become(self.base)

    @property
    def emotions(self) -> em.Vector:
        """The current emotions, decayed up to now.

        Decay over a gap below `DECAY_STEP_S` is put off, not lost: the next read decays over
        the whole gap, and exponential decay composes exactly.
        """
        now = self._clock()
        if now - self._at >= DECAY_STEP_S:
            self._emotions = em.decay(self._emotions, self.rest, now - self._at)
            self._at = now
        return self._emotions

    @property
    def updated_at(self) -> float:
        return self._at

    def feel(self, event: em.Appraisal, intensity: float = 1.0) -> em.Vector:
        current = self.emotions
        self._emotions = em.apply_impulse(current, em.impulse(event, self.personality, intensity))
        self.history.append((self._at, self._emotions))
        return self._emotions

    def take(self, emotions: dict[str, float], at: float) -> None:
        """Feelings another process stored for this agent (a worker on another node felt them):
        they replace this copy's, decayed from `at` as a loaded state is."""
        self._emotions = em.from_dict(emotions, self.rest)
        self._at = at or self._clock()
        self.history.append((self._at, self._emotions))

    def modifiers(self) -> em.EmotionModifiers:
        return em.EmotionModifiers.of(self.emotions, self.rest)

    def mood(self) -> Mood:
        return em.mood(self.emotions, self.personality, self.rest)

    def as_dict(self) -> dict[str, float]:
        return em.as_dict(self.emotions)

    def to_json(self) -> str:
        return json.dumps(em.as_dict(self._emotions))

    def series(self, emotion: str) -> list[float]:
        """One emotion's recent values, oldest first, for a sparkline."""
        i = em.INDEX[emotion]
        return [float(v[i]) for _, v in self.history]
