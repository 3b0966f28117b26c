"""Signing (CHUKYDONVI) and verification of GIAMDINHHS envelopes and check-in documents.

One core (:mod:`.core`) builds the XML-DSig once; the signers only compute the RSA value: :class:`P12Signer` (a
PKCS#12 file), :class:`~.pkcs11.Pkcs11Signer` (a USB token through PKCS#11, the key never leaves it) and
:class:`~.remote.RemoteSigner` (a hash-signing service whose user confirms each request). :func:`verify` names
what is wrong with a signed file.
"""

from .core import DS, SLOT, Pending, Signer, SigningError, check_validity, portal_subject, prepare
from .p12 import PASSWORD_ENV, P12Signer
from .verify import PROBLEMS, Problem, Verification, verify

__all__ = ["DS", "PASSWORD_ENV", "PROBLEMS", "SLOT", "P12Signer", "Pending", "Problem", "Signer", "SigningError",
           "Verification", "check_validity", "portal_subject", "prepare", "verify"]
