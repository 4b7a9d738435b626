"""The program's rules as pure, typed functions over policy-year data. No I/O but reading
the package's own data files."""
