"""SQLModel tables: the ORM's view of the schema that `migrations` builds.

The migrations are the history of the schema; these classes describe its latest shape. A test
checks that the two agree column by column.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class AgentRow(SQLModel, table=True):
    """One agent: its name, Big Five personality, lifecycle state and last emotions."""

    __tablename__ = "agent"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    preset: str = "custom"
    state: str = "initializing"
    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float
    created_at: float
    updated_at: float
    #: JSON object of the eight emotions, as of `emotions_at` (decay is applied on load).
    emotions: str = "{}"
    emotions_at: float = 0.0
    #: Importance of the episodes stored since the last reflection (reflection fires past a bar).
    importance_since_reflection: float = 0.0
    #: JSON: how far experience moved each trait from the base above, with the reasons
    #: (newest first); '{}' is no drift. The current traits are base + drift.
    drift: str = "{}"


class ActionRecordRow(SQLModel, table=True):
    """How an agent has fared with one action on one kind of target."""

    __tablename__ = "action_record"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    action: str
    target_kind: str
    successes: int = 0
    failures: int = 0
    approved_successes: int = 0
    last_success_at: float | None = None
    last_failure_at: float | None = None
    #: Approved successes since the last failure: what earns autonomy (and a failure resets).
    approved_streak: int = 0


class ApprovalRow(SQLModel, table=True):
    """An action that waits for (or got) a human's decision."""

    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    action: str
    target: str | None = None
    risk: str
    status: str
    summary: str
    #: JSON: what to run (action, target, parameters) once approved.
    request: str
    #: JSON: the decision's explanation at the time it was asked.
    explanation: str
    result: str | None = None
    created_at: float
    decided_at: float | None = None
    decided_by: str | None = None


class IdSequenceRow(SQLModel, table=True):
    """Blocks of ids handed to each process, so episodes can be numbered before they are written."""

    __tablename__ = "id_sequence"

    name: str = Field(primary_key=True)
    next_id: int


class EpisodeRow(SQLModel, table=True):
    """Something an agent lived through: a stimulus, a decision, an action's outcome, a chat turn.

    `embedding` is float32 little-endian bytes; `details` (JSON) is dropped when old episodes
    are compressed, the summary, embedding and importance stay.
    """

    __tablename__ = "episode"

    id: int = Field(primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    kind: str
    situation: str | None = None
    summary: str
    details: str | None = None
    importance: float
    embedding: bytes
    ts: float
    compressed: int = 0


class FactRow(SQLModel, table=True):
    """Semantic memory: subject, predicate, value, how sure, and the episodes it came from."""

    __tablename__ = "fact"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    subject: str
    predicate: str
    value: str
    confidence: float
    #: JSON list of episode ids.
    sources: str = "[]"
    evidence: int = 1
    created_at: float
    updated_at: float


class ProcedureRow(SQLModel, table=True):
    """Procedural memory: the steps that resolved a kind of situation, versioned."""

    __tablename__ = "procedure"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    situation: str
    #: JSON list of steps: {"action", "params", "runs", "fixes"}.
    steps: str
    version: int = 1
    parent_id: int | None = Field(default=None, foreign_key="procedure.id", ondelete="SET NULL")
    active: int = 1
    successes: int = 0
    failures: int = 0
    sources: str = "[]"
    created_at: float
    updated_at: float


class ActionValueRow(SQLModel, table=True):
    """A learned value of taking an action in a kind of situation (own and observed pulls)."""

    __tablename__ = "action_value"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    situation: str
    action: str
    value: float
    own_pulls: int = 0
    observed_pulls: float = 0.0
    updated_at: float


class TargetRow(SQLModel, table=True):
    """A web service to watch: how to check it and which conditions mean healthy."""

    __tablename__ = "target"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str
    address: str
    interval_s: float
    timeout_s: float
    criticality: str
    #: JSON list of condition strings, e.g. ["status == 200", "latency_ms < 300"].
    conditions: str = "[]"
    #: Consecutive failing / passing checks that open / resolve an incident (migration 9).
    failure_threshold: int = 2
    success_threshold: int = 1
    #: Seconds between checks while a fault is suspected (migration 11); NULL: the interval.
    retry_interval_s: float | None = None
    #: JSON list of context condition strings (migration 11), e.g. ['json.disk_pct < 90'].
    context: str = "[]"
    created_at: float
    updated_at: float


class RunbookRow(SQLModel, table=True):
    """An operator-defined remedy: an argv command or an HTTP request, with its risk."""

    __tablename__ = "runbook"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str
    #: JSON: {"argv": [...], "env": {...}} or {"method", "url", "headers", "body"}.
    spec: str
    #: JSON object of name -> encrypted value; never printed.
    secrets: str = "{}"
    risk: str
    timeout_s: float
    verify_target: str | None = None
    description: str = ""
    created_at: float
    updated_at: float


class SkillRow(SQLModel, table=True):
    """An agent's proficiency with one skill, from practice."""

    __tablename__ = "skill"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    name: str
    proficiency: float
    practice_count: int = 0
    successes: int = 0
    failures: int = 0
    learned_at: float
    last_practiced_at: float | None = None


class CheckSampleRow(SQLModel, table=True):
    """One check of a target: the history anomaly baselines are learned from."""

    __tablename__ = "check_sample"

    id: int | None = Field(default=None, primary_key=True)
    target: str
    ts: float
    healthy: int
    latency_ms: float | None = None
    #: The `webops run --worker` that made the check ('' without one); migration 16.
    worker: str = ""


class AuditRow(SQLModel, table=True):
    """Append-only, hash-chained record of every action, approval and denial."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    ts: float
    actor: str
    event: str
    agent: str | None = None
    action: str | None = None
    target: str | None = None
    detail: str = "{}"
    why: str = ""
    prev_hash: str
    hash: str


class IncidentRow(SQLModel, table=True):
    """Something wrong with a target, from when it was noticed until it was resolved."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    target: str
    situation: str
    status: str
    owner: str | None = None
    summary: str
    steps: int = 0
    #: JSON list of [action, fixed] pairs, in the order they were tried.
    actions: str = "[]"
    #: "down" (failing) or "degraded" (answering, but slow or partial); migration 9.
    health: str = "down"
    opened_at: float
    closed_at: float | None = None
    #: JSON list of the failing checks that confirmed it (ts, health, detail, latency_ms);
    #: migration 10.
    evidence: str = "[]"
    #: JSON list of each remedy tried with its credit (action, fixed, credit, why); migration 10.
    credits: str = "[]"
    #: When and by whom a person acknowledged it (reminders stop); migration 14.
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    #: Bumped by a person's resolve or reopen; the loop writes only over the value it read,
    #: so another process's resolve is never overwritten (agent/ops/lifecycle.py); migration 14.
    person_rev: int = 0


class IncidentEventRow(SQLModel, table=True):
    """One line of an incident's journal: a note, a person's ack/resolve/reopen, an agent's
    decision with its explanation (migration 14)."""

    __tablename__ = "incident_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int
    ts: float
    kind: str
    actor: str | None = None
    text: str = ""


class MessageRow(SQLModel, table=True):
    """One message on the bus or one chat turn, in its conversation."""

    __tablename__ = "message"

    id: int | None = Field(default=None, primary_key=True)
    #: "direct:anna:ben" (names sorted), "chat:anna:operator:alice" or "group:team".
    conversation: str
    sender: str
    recipient: str
    #: "direct", "broadcast" or "chat".
    kind: str
    text: str
    #: JSON: intent, entities and anything else a reader may want about the message.
    meaning: str = "{}"
    #: "queued", "delivered" or "read".
    status: str
    lang: str = "en"
    ts: float


class RelationshipRow(SQLModel, table=True):
    """How one agent regards another agent or an operator."""

    __tablename__ = "relationship"

    id: int | None = Field(default=None, primary_key=True)
    subject: str
    other: str
    trust: float
    affinity: float
    interactions: int = 0
    last_contact: float


class ApiTokenRow(SQLModel, table=True):
    """A REST API bearer token: its name and role, and only a hash of the secret."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    #: "viewer", "operator" or "admin".
    role: str
    #: The token's first characters after "webops_", shown in lists to tell tokens apart.
    prefix: str = Field(unique=True)
    #: sha256 (hex) of the whole token; the token itself is never stored.
    token_hash: str
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None


class SilenceRow(SQLModel, table=True):
    """A one-off silence: targets (names or globs) in maintenance from `starts_at` to `ends_at`."""

    __tablename__ = "silence"

    id: int | None = Field(default=None, primary_key=True)
    #: Set by the ops document (`[[silence]]`, matched by name); None for `webops silence`.
    name: str | None = Field(default=None, unique=True)
    #: JSON list of target names or globs (`db-*`, `*`).
    targets: str = "[]"
    reason: str = ""
    starts_at: float
    ends_at: float
    created_by: str | None = None
    created_at: float


class MaintenanceWindowRow(SQLModel, table=True):
    """A recurring maintenance window: from each time `cron` fires, for `duration`."""

    __tablename__ = "maintenance_window"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    #: JSON list of target names or globs.
    targets: str = "[]"
    cron: str
    #: As written ("1h", "90m"): read by agent/ops/durations.py.
    duration: str
    reason: str = ""
    created_at: float
    updated_at: float


class NotifyRouteRow(SQLModel, table=True):
    """Where notifications go (migration 15): an apprise URL, sealed, and what to send there."""

    __tablename__ = "notify_route"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    #: The apprise URL as a Fernet token (storage/secrets.py): URLs often carry tokens.
    url: str
    #: JSON list of event names ('[]': every event).
    events: str = "[]"
    #: JSON list of target names or fnmatch globs ('[]': every target).
    targets: str = "[]"
    min_criticality: str = "low"
    #: Seconds between reminders while an incident stays open and unacknowledged; 0: none.
    remind_every_s: float = 0.0
    send_resolved: bool = True
    created_at: float
    updated_at: float


class NotificationRow(SQLModel, table=True):
    """One delivery in the outbox (migration 15): pending until sent, or failed for good."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    route: str
    #: incident_opened, incident_reminder, approval_requested, ... (agent/ops/notify_routes.py)
    event: str
    target: str | None = None
    incident_id: int | None = None
    title: str
    body: str
    #: "pending", "sent" or "failed".
    status: str = "pending"
    attempts: int = 0
    last_error: str = ""
    created_at: float
    #: When the next attempt is due (back-off after a failed one).
    next_at: float
    sent_at: float | None = None


class WorkerRow(SQLModel, table=True):
    """A `webops run --worker`: when it started and last said it is alive (migration 16)."""

    __tablename__ = "worker"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    started_at: float
    seen_at: float
    stopped_at: float | None = None
    lease_s: float = 10.0


class TargetLeaseRow(SQLModel, table=True):
    """Which worker checks a target, until when; '' and 0 when free (migration 16)."""

    __tablename__ = "target_lease"

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(unique=True)
    worker: str = ""
    expires_at: float = 0.0
