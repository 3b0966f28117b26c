"""The jobs, run by the command line and by the Prefect flows (``pipelines/``) alike, so they run the same with or
without a Prefect server: ``export`` (:mod:`.export`), the nightly export (:mod:`.nightly`), check-in
(:mod:`.checkin`), resend (:mod:`.resend`) and submit (:mod:`.submit`).

Every job that writes stages through the one stager (:mod:`.stager`) and declares its write behaviour there;
:mod:`.deadlines` keeps the sending deadlines, :mod:`.status` what to act on; the state (versions, watermarks,
attempts) and the atomic writes are :mod:`xml130.store`'s. Import the job functions from here (``jobs.nightly(...)``).
"""

from .checkin import checkin
from .nightly import NightlyPlan, complete_nightly, day_partitions, nightly, plan_nightly, stage_window
from .resend import resend
from .stager import RunReport, new_run_id, sha256
from .submit import NO_SIGNER, SignerMissing, submit

__all__ = ["NO_SIGNER", "NightlyPlan", "RunReport", "SignerMissing", "checkin", "complete_nightly", "day_partitions",
           "new_run_id", "nightly", "plan_nightly", "resend", "sha256", "stage_window", "submit"]
