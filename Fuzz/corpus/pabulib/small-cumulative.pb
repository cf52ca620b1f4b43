META
key;value
num_projects;2
num_votes;2
budget;10.50
vote_type;cumulative
max_sum_points;5
PROJECTS
project_id;cost;name;votes
x;5.25;"Quoted; name";2
y;5.25;Plain;1
VOTES
voter_id;vote;points
1;x,y;3,2
2;x;5
