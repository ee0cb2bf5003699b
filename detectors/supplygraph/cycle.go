package supplygraph

import (
	"slices"

	"gonum.org/v1/gonum/graph"
)

// cyclePath turns a strongly connected component into one closed path parent → input → … →
// parent, starting at the component's smallest item id, found by breadth-first search (so the
// path is a shortest cycle through that item and the same on every run).
func cyclePath(g *Graph, comp []graph.Node) []string {
	in := map[int32]bool{}
	var start int32 = -1
	for _, n := range comp {
		i := int32(n.ID())
		in[i] = true
		if start < 0 || g.Items[i].ID < g.Items[start].ID {
			start = i
		}
	}
	prev := map[int32]int32{}
	queue := []int32{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, c := range g.Inputs[v] {
			if !in[c.Item] {
				continue
			}
			if c.Item == start {
				path := []string{g.Items[start].ID}
				for x := v; x != start; x = prev[x] {
					path = append(path, g.Items[x].ID)
				}
				path = append(path, g.Items[start].ID)
				// path is start ← … ← v ← start reversed; turn it into start → … → start
				slices.Reverse(path[1 : len(path)-1])
				return path
			}
			if _, seen := prev[c.Item]; !seen {
				prev[c.Item] = v
				queue = append(queue, c.Item)
			}
		}
	}
	return []string{g.Items[start].ID}
}
