-- Every provider's settlement lines (int_<provider>__settlement_lines, var settlement_contributors) in one shape.
{{ union_contributors('settlement_lines', 'settlement_contributors') }}
