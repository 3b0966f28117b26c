"""Code values, each written once: the standard's codes that code decides on, the statuses and kinds xml130 keeps,
and where a job keeps its ledger when told nothing.

String enums compare equal to, and are stored as, their text (``VisitKind.INPATIENT == "03"``), so models, the
ledger's columns and the JSON files carry the same values as before. The full code lists with their validity
periods stay data (``rules/codelists.toml``); here are the codes whose meaning some code depends on.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class VisitKind(StrEnum):
    """MA_LOAI_KCB (QĐ 130 as amended by 4750; QĐ 1804/2026 adds 10–16, listed in codelists.toml)."""

    OUTPATIENT = "01"  # khám bệnh
    OUTPATIENT_TREATMENT = "02"  # điều trị ngoại trú
    INPATIENT = "03"  # điều trị nội trú
    DAY_CARE = "04"  # điều trị nội trú ban ngày
    CHRONIC_DRUGS = "05"  # ngoại trú bệnh mạn tính: khám và lĩnh thuốc
    COMMUNE_STAY = "06"  # điều trị lưu tại trạm y tế xã, phòng khám đa khoa khu vực
    DRUGS_BY_APPOINTMENT = "07"  # nhận thuốc theo hẹn, không khám
    CHRONIC_SERVICES = "08"  # ngoại trú bệnh mạn tính: khám, lĩnh thuốc và dịch vụ
    SHORT_STAY = "09"  # nội trú dưới 4 giờ (params.toml: short_stay_hours)


# Nội trú and nội trú ban ngày: NGAY_VAO_NOI_TRU and XML8 due.
INPATIENT_KINDS = frozenset({VisitKind.INPATIENT, VisitKind.DAY_CARE})
# SO_NGAY_DTRI (4750, XML1): 0 for 01, 07, 09; NGAY_RA − NGAY_VAO + 1 for 02, 03, 04, 06 (05, 08: days of drugs or
# services, not derivable from XML1).
ZERO_DAY_KINDS = frozenset({VisitKind.OUTPATIENT, VisitKind.DRUGS_BY_APPOINTMENT, VisitKind.SHORT_STAY})
COUNTED_DAY_KINDS = frozenset({VisitKind.OUTPATIENT_TREATMENT, VisitKind.INPATIENT, VisitKind.DAY_CARE,
                               VisitKind.COMMUNE_STAY})
# Kinds of visit that may bill a bed.
BED_KINDS = frozenset({VisitKind.INPATIENT, VisitKind.DAY_CARE, VisitKind.COMMUNE_STAY, VisitKind.SHORT_STAY})


class ObjectCode(StrEnum):
    """MA_DOITUONG_KCB values code decides on (the whole list: codelists.toml)."""

    EMERGENCY = "2"  # cấp cứu: no check-in document is sent
    UNINSURED = "9"  # người bệnh không KCB BHYT (QĐ 3276/2025): no card fields, nothing asked of the fund


class Sex(IntEnum):
    """GIOI_TINH."""

    MALE = 1
    FEMALE = 2
    UNKNOWN = 3


class DischargeKind(IntEnum):
    """MA_LOAI_RV values code decides on."""

    DISCHARGED = 1  # ra viện: XML7 required for an inpatient
    REFERRED = 2  # chuyển tuyến: XML13 required


class Status(StrEnum):
    """The status of a hồ sơ version or a check-in event in the ledger."""

    STAGED = "staged"
    QUARANTINED = "quarantined"
    SUBMITTED = "submitted"
    AWAITING_SIGNATURE = "awaiting_signature"  # a remote signer has not confirmed yet (nothing sent)
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REPLACED = "replaced"
    BLOCKED = "blocked"  # its staged file is not what was checked (SUBMIT.CONTENT_CHANGED): never sent; resend


# Not yet accepted by the portal: what `xml130 status` watches for deadlines.
OPEN_STATUSES = (Status.STAGED, Status.QUARANTINED, Status.SUBMITTED, Status.AWAITING_SIGNATURE, Status.REJECTED,
                 Status.BLOCKED)
# What `submit` sends: staged, or submitted without an answer (sent again with the same request id), or waiting
# for a remote signer's confirmation (looked at again, sent once confirmed).
TO_SEND = (Status.STAGED, Status.SUBMITTED, Status.AWAITING_SIGNATURE)


class Kind(StrEnum):
    """What a ledger row or a submission is about: a hồ sơ version (GIAMDINHHS envelope) or a check-in event (XML0)."""

    HOSO = "hoso"
    CHECKIN = "checkin"


class SubmissionOutcome(StrEnum):
    """How one attempt to send a file ended (the ledger's ``submission`` table)."""

    SENDING = "sending"  # the bytes are kept, the answer not yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the portal refused the data: never sent again as it is
    UNANSWERED = "unanswered"  # no answer (network, 5xx): the same bytes go again
    REFUSED = "refused"  # the portal refused the sender (login, signature): signed and sent afresh
    NOT_SENT = "not_sent"  # nothing left (no token, a signature our verifier refuses): the file stays due
    BLOCKED = "blocked"  # nothing left: the staged file is not what was checked; the file becomes ``blocked``


# Attempts whose bytes never left (sent_bytes empty): they say why.
NOTHING_LEFT = (SubmissionOutcome.NOT_SENT, SubmissionOutcome.BLOCKED)


# The ledger of the command line and of the flows when neither --ledger, XML130_LEDGER nor a Secret block names one.
DEFAULT_LEDGER = "sqlite:///xml130-ledger.db"


class Outcome(StrEnum):
    """What staging did with one item (the counts of a run)."""

    STAGED = "staged"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"
