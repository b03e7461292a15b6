export { trendingRoutes } from './routes.ts'
