module github.com/reseal/reseal

go 1.26
