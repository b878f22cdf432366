"""Moving the fund's existing spreadsheet loans in: template, parser, dry run and import.

A file holds one loan per row with its cooperative, its terms and the repayments made
before the import. The loans are rebuilt through the lending and repayment services, in
date order across the file, so schedules, allocations, receipts and journal entries are
those the fund would have recorded.
"""
