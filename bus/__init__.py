"""The one place that knows NATS: connection, subjects, streams, consumers, KV, the embedded server."""

from . import log_context, subjects
from .cipher import Cipher, DecryptionError, MasterKeyError, new_master_key
from .client import Bus, set_up_bus
from .connection import NatsLogin
from .run_events_hub import FollowerDropped, RunEventModel, RunFollow
from .run_list_feed import RunListWatch
from .signing import SIGNATURE_HEADER, ResultKeyError, ResultSigner, new_results_key
from .consumer import Defer, Delivery, PullLoop, PullSource, Reject, Retry
from .credentials import CredentialExists, CredentialMissing, CredentialStore
from .errors import TRANSIENT_ERRORS, BusError, BusUnavailable, RecordDamaged, StaleRevision, TooLarge
from .engine_questions import NoEngine
from .resources import BusSettings, NotSetUp
from .run_store import RunStore
from .step_outputs import StepOutputs, output_ref
from .server import ClusterMember, EmbeddedNats, LocalCluster, free_port, free_port_blocks, nats_server_binary
from .workflows_kv import VersionConflict, WorkflowStore

__all__ = [
    "Cipher", "CredentialExists", "CredentialMissing", "CredentialStore", "DecryptionError", "MasterKeyError",
    "new_master_key",
    "TRANSIENT_ERRORS", "SIGNATURE_HEADER", "ResultKeyError", "ResultSigner", "new_results_key", "RecordDamaged", "Bus", "NatsLogin", "BusError", "NoEngine", "NotSetUp", "set_up_bus", "BusUnavailable", "Defer", "Delivery", "PullSource", "BusSettings", "ClusterMember", "EmbeddedNats", "LocalCluster", "PullLoop", "Reject", "Retry", "RunEventModel", "RunFollow", "FollowerDropped", "RunListWatch",
    "RunStore", "StaleRevision", "StepOutputs", "TooLarge", "output_ref", "VersionConflict", "WorkflowStore", "free_port", "free_port_blocks", "log_context", "nats_server_binary", "subjects",
]
