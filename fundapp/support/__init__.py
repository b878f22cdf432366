"""Interest support schemes (hỗ trợ lãi suất): the schemes, the loans enrolled on them, the
claims to the paying agency and the budget's receivable (docs/rules.md#interest-support)."""
