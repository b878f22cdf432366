"""Bank statements of the collection account: import (fundapp.banking.parsers), matching
of each credit to a loan (fundapp.banking.matching) and the accountant's review
(fundapp.banking.services)."""
