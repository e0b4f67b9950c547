"""The advance-compensation fund (QS 9.7.6): pay the consumer first, recover from the
responsible party later, with balances that are always consistent.

- ``ledger``: the double-entry ledger (chart of accounts, posting, balances, the check
  that recomputes everything from the entries). Nothing of it is ever updated or deleted;
  corrections are new transactions.
- ``contributions``: money into the fund (admin duty), and reversing one booked in error.
- ``payouts``: customer-service staff approve a payout about an after-sales request or a
  complaint, within the rule ``fund.payout``; the consumer is paid at once and the
  recovery opened in the same transaction; never twice for one claim.
- ``recoveries``: compliance staff recover from the merchant's deposit or settlement
  (appealable through the merchant's violation case) or from a provider's settlement, or
  waive; the appeal's decision, or the ``fund`` job once nobody appealed, settles it.
- ``demo``: the demo world's fund.

Every step is a traced key node (QS 9.1.2): each ledger transaction on its own chain,
payouts and recoveries on theirs (state machines of services/state.py), deposit and
settlement deductions on the merchant's.
"""

from pinzhi.services.fund import contributions, ledger, payouts, recoveries
from pinzhi.services.fund.payouts import RULE_KEY, PayoutRequest

__all__ = ["RULE_KEY", "PayoutRequest", "contributions", "ledger", "payouts", "recoveries"]
