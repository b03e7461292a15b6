export { storyLikes } from './likes.table.ts'
export { likeRoutes } from './routes.ts'
