"""How a cooperative pays the fund: the VietQR code of the fund's collection account."""
