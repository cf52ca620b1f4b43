META
key;value
description;a small approval election
country;United Kingdom
unit;Whitmere
instance;2026
num_projects;3
num_votes;3
budget;1000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
1;600;Bus shelter
2;400;Benches
3;500;Planting
VOTES
voter_id;vote
a;1,2
b;2,3
c;1
