"""Password hashing: argon2id, salted and deliberately slow; plain passwords are never stored.

>>> from workbench.store.passwords import PasswordPolicy
>>> policy = PasswordPolicy.fast_for_tests()
>>> h = policy.hash("correct horse")
>>> h.startswith("$argon2id$"), policy.verify(h, "correct horse"), policy.verify(h, "wrong")
(True, True, False)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from workbench.errors import ParameterError

__all__ = ["PasswordPolicy", "MIN_PASSWORD_LENGTH"]

#: Shortest password :meth:`PasswordPolicy.hash` accepts.
MIN_PASSWORD_LENGTH = 8


@dataclass
class PasswordPolicy:
    """How passwords are hashed and checked.

    Parameters
    ----------
    time_cost, memory_cost, parallelism : int
        argon2id cost parameters (memory in KiB).  The defaults are
        argon2-cffi's (RFC 9106 low-memory profile: 3 passes over 64 MiB),
        about 0.1 s per hash on one core.
    min_length : int
        Shortest password accepted for a new hash.
    """

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4
    min_length: int = MIN_PASSWORD_LENGTH
    _hasher: PasswordHasher = field(init=False, repr=False)
    _dummy: str | None = field(init=False, repr=False, default=None)

    def __post_init__(self):
        self._hasher = PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_cost, parallelism=self.parallelism
        )

    @classmethod
    def fast_for_tests(cls) -> "PasswordPolicy":
        """Still argon2id, but with minimal cost so test suites stay fast."""
        return cls(time_cost=1, memory_cost=1024, parallelism=1)

    def hash(self, password: str) -> str:
        """The argon2id hash (with a random salt) of ``password``.

        Raises
        ------
        ParameterError
            When the password is not a string or shorter than ``min_length``.
        """
        if not isinstance(password, str) or len(password) < self.min_length:
            got = f"a {type(password).__name__}" if not isinstance(password, str) else f"{len(password)} characters"
            raise ParameterError(
                f"The 'password' parameter must be a string of at least {self.min_length} characters. Got {got}."
            )
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``.

        With ``password_hash=None`` (unknown user) a dummy hash is verified so
        that the answer takes about as long as for a known user.
        """
        if password_hash is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash("workbench-dummy-password")
            password_hash = self._dummy
            try:
                self._hasher.verify(password_hash, str(password))
            except (VerificationError, InvalidHashError):
                pass
            return False
        try:
            return self._hasher.verify(password_hash, str(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other cost parameters than this policy's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
