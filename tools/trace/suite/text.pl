# The perl program of the trace suite (tools/trace/record-suite.sh): words counted in hashes,
# lines split, sorted and joined.
my $limit = shift; my (%count, %by_len);
while (<>) { last if $. > $limit; chomp; my @f = split / /; $count{$_}++ for @f; push @{$by_len{length $f[-1]}}, uc $f[0]; }
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 9];
my $lens = join ',', map { scalar @{$by_len{$_}} . ':' . length(join '', @{$by_len{$_}}) } sort { $a <=> $b } keys %by_len;
print "@top\n$lens\n", scalar(keys %count), "\n";
