-- A journal line books one side only, with a positive amount; zero lines are omitted.
select journal_line_id, debit_amount, credit_amount
from {{ ref('journal_lines') }}
where debit_amount < 0
    or credit_amount < 0
    or (debit_amount > 0 and credit_amount > 0)
    or (debit_amount = 0 and credit_amount = 0)
